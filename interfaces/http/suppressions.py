"""Suppression list endpoints: list (by reason, with a cursor), read, add and lift, by address."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from domain.api_key import Role
from domain.email_address import normalize_email
from domain.errors import NotFound
from domain.events import because
from domain.preference_sources import Source
from domain.suppression import clean_reason
from interfaces.bootstrap import Container
from interfaces.http.auth import ANY_ROLE, require
from interfaces.http.errors import documented
from interfaces.http.schemas.preferences import Suppression, SuppressionCreate, SuppressionPage
from projections.suppressions import SuppressionRow, get_suppression, list_suppressions

Limit = Annotated[int, Parameter(ge=1, le=1000)]
EDITORS = require(Role.EDITOR)
_ERRORS = (400, 401, 403, 429)


class NotSuppressed(NotFound):
    """The address is not on the suppression list."""

    code = "not_suppressed"


def _suppression(row: SuppressionRow) -> Suppression:
    return Suppression(row.address, row.contact_id, row.reason, row.source, row.cause, row.suppressed_at)


def _read(container: Container, address: str) -> Suppression:
    row = get_suppression(container.db, normalize_email(address))
    if row is None:
        raise NotSuppressed(f"{address} is not suppressed", address=address)
    return _suppression(row)


class SuppressionsController(Controller):
    """Addresses we must not send to. Reads: any role; writes: editor."""

    path = "/suppressions"
    tags = ["suppressions"]
    guards = [ANY_ROLE]

    @get("/", operation_id="listSuppressions", sync_to_thread=True, responses=documented(*_ERRORS, 422))
    def list(
        self,
        container: NamedDependency[Container],
        reason: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 100,
    ) -> SuppressionPage:
        """Suppressions in address order, optionally of one ``reason``; page with the cursor."""
        wanted = None if reason is None else clean_reason(reason).value
        rows = list_suppressions(container.db, wanted, cursor, limit)
        return SuppressionPage([_suppression(r) for r in rows], rows[-1].address if len(rows) == limit else None)

    @post("/", operation_id="suppressAddress", guards=[EDITORS], sync_to_thread=True,
          responses=documented(*_ERRORS, 415, 422))  # fmt: skip
    def create(self, data: JSONBody[SuppressionCreate], container: NamedDependency[Container]) -> Response[Suppression]:
        """Suppress an address (201), or answer 200 when it already is for that reason (nothing recorded)."""
        with because(data.note):
            changed = container.suppressions.suppress(data.address, data.reason, Source.ADMIN)
        container.settle()
        return Response(_read(container, data.address), status_code=201 if changed else 200)

    @get("/{address:str}", operation_id="getSuppression", sync_to_thread=True,
         responses=documented(*_ERRORS, 404, 422))  # fmt: skip
    def read(self, address: FromPath[str], container: NamedDependency[Container]) -> Suppression:
        """The suppression of one address (404 when it is not suppressed)."""
        return _read(container, address)

    @delete("/{address:str}", operation_id="liftSuppression", guards=[EDITORS], sync_to_thread=True,
            responses=documented(*_ERRORS, 404, 422))  # fmt: skip
    def lift(
        self, address: FromPath[str], container: NamedDependency[Container], reason: FromQuery[str | None] = None
    ) -> None:
        """Take an address off the list (``?reason=`` is recorded as the why); 404 when it is not on it."""
        with because(reason):
            lifted = container.suppressions.lift(address, Source.ADMIN)
        if not lifted:
            raise NotSuppressed(f"{address} is not suppressed", address=address)
        container.settle()
