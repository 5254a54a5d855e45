"""Normalized email events and the webhook quarantine (read-only; any role)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, Parameter

from domain.email_event import EmailEventType
from domain.errors import NotFound
from interfaces.bootstrap import Container
from interfaces.http.auth import ANY_ROLE
from interfaces.http.errors import documented
from interfaces.http.paging import bad_cursor
from interfaces.http.schemas.email_events import EmailEvent, EmailEventPage, QuarantinedItem, QuarantinePage
from projections.email_events import EmailEventFilter, get_event, list_events, list_quarantine

Limit = Annotated[int, Parameter(ge=1, le=1000)]


def _cursor(value: str | None) -> int:
    if not value:
        return 0
    if not value.isdigit():
        raise bad_cursor()
    return int(value)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in {"dedup_key", "seq"}}


class EmailEventsController(Controller):
    """What ESPs reported about our messages, in one schema."""

    path = "/email-events"
    tags = ["email events"]
    guards = [ANY_ROLE]

    @get("/", operation_id="listEmailEvents", sync_to_thread=True, responses=documented(400, 401, 403, 422, 429))
    def list(  # noqa: PLR0917 - one query parameter per filter
        self,
        container: NamedDependency[Container],
        connection_id: FromQuery[UUID | None] = None,
        recipient: FromQuery[str | None] = None,
        type: FromQuery[EmailEventType | None] = None,  # noqa: A002
        provider_message_id: FromQuery[str | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 100,
    ) -> EmailEventPage:
        """Filter by connection, recipient, type, message, time; page with the cursor."""
        f = EmailEventFilter(connection_id, recipient, type.value if type else None, provider_message_id, since, until,
                             _cursor(cursor), limit)  # fmt: skip
        rows = list_events(container.db, f)
        items = [EmailEvent(**_public(r)) for r in rows]
        return EmailEventPage(items, str(rows[-1]["seq"]) if len(rows) == limit else None)

    @get("/{event_id:uuid}", operation_id="getEmailEvent", sync_to_thread=True,
         responses=documented(400, 401, 403, 404, 429))  # fmt: skip
    def read(self, event_id: FromPath[UUID], container: NamedDependency[Container]) -> EmailEvent:
        """One normalized event."""
        row = get_event(container.db, event_id)
        if row is None:
            raise NotFound(f"email event {event_id} not found")
        return EmailEvent(**_public(row))


class QuarantineController(Controller):
    """Items of webhook deliveries that could not be normalized."""

    path = "/webhook-quarantine"
    tags = ["email events"]
    guards = [ANY_ROLE]

    @get("/", operation_id="listWebhookQuarantine", sync_to_thread=True, responses=documented(400, 401, 403, 429))
    def list(
        self, container: NamedDependency[Container], cursor: FromQuery[str | None] = None, limit: FromQuery[Limit] = 100
    ) -> QuarantinePage:
        """Quarantined items with the reason each was refused."""
        rows = list_quarantine(container.db, cursor or "", limit)
        return QuarantinePage([QuarantinedItem(**r) for r in rows], rows[-1]["id"] if len(rows) == limit else None)
