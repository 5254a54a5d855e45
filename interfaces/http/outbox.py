"""The capture outbox over HTTP: ``GET /api/v1/outbox`` and ``GET /api/v1/outbox/{message_id}``.

With the ``capture`` transport (the embedded default) messages are kept instead of sent; these endpoints
show what would have left. They hold recipients' addresses and personalised bodies, so only editors and
admins read them.
"""

from __future__ import annotations

import weakref
from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, Parameter

from domain.api_key import Role
from domain.errors import NotFound
from interfaces.bootstrap import Container
from interfaces.http.auth import require
from interfaces.http.errors import documented
from interfaces.http.paging import bad_cursor
from interfaces.http.schemas.outbox import CapturedMessage, CapturedPage, CapturedSummary
from interfaces.transports import capture
from projections.db import Database

Limit = Annotated[int, Parameter(ge=1, le=500, description="messages per page")]
EDITORS = require(Role.EDITOR)

# Readable before any worker created the table (an API process without an inline worker).
_ready: weakref.WeakSet[Database] = weakref.WeakSet()


def _outbox(db: Database) -> Database:
    if db not in _ready:
        capture.create_table(db)
        _ready.add(db)
    return db


def _cursor(value: str | None) -> UUID | None:
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise bad_cursor() from None


def _summary(c: capture.Captured) -> CapturedSummary:
    return CapturedSummary(c.message_id, c.campaign_id, c.contact_id, c.to, c.sender, c.subject, c.attempts,
                           c.captured_at)  # fmt: skip


class OutboxController(Controller):
    """Messages the capture transport kept (editor or admin)."""

    path = "/outbox"
    tags = ["outbox"]
    guards = [EDITORS]

    @get("/", operation_id="listOutbox", sync_to_thread=True, responses=documented(400, 401, 403, 429))
    def list(
        self,
        container: NamedDependency[Container],
        campaign_id: FromQuery[UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 100,
    ) -> CapturedPage:
        """Captured messages in message-id order, optionally of one campaign; page with the cursor."""
        rows = capture.list_captured(_outbox(container.db), campaign_id, _cursor(cursor), limit)
        return CapturedPage([_summary(c) for c in rows], str(rows[-1].message_id) if len(rows) == limit else None)

    @get("/{message_id:uuid}", operation_id="getOutboxMessage", sync_to_thread=True,
         responses=documented(400, 401, 403, 404, 429))  # fmt: skip
    def read(self, message_id: FromPath[UUID], container: NamedDependency[Container]) -> CapturedMessage:
        """One captured message with its HTML, text and headers."""
        c = capture.get_captured(_outbox(container.db), message_id)
        if c is None:
            raise NotFound(f"message {message_id} is not in the outbox")
        return CapturedMessage(c.message_id, c.campaign_id, c.contact_id, c.run_id, c.to, c.sender, c.subject, c.html,
                               c.text, c.headers, c.attempts, c.captured_at)  # fmt: skip
