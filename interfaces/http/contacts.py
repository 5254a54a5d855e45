"""Contact endpoints: upsert by email, read, patch, list, and a contact's email events."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from application.contacts import ContactInput, Contacts, Outcome
from domain.api_key import Role
from domain.contact import KEEP
from domain.contact import Contact as ContactAggregate
from domain.contact_fields import clean_email
from domain.errors import NotFound
from domain.events import because
from interfaces.bootstrap import Container
from interfaces.http.auth import ANY_ROLE, require
from interfaces.http.errors import documented
from interfaces.http.paging import bad_cursor
from interfaces.http.schemas.contacts import Contact, ContactCreate, ContactEventPage, ContactPage, ContactUpdate
from interfaces.http.schemas.email_events import EmailEvent
from projections.contacts import ContactRow, contact_events, find_by_email, get_contact, list_contacts
from projections.email_events import stamp

Limit = Annotated[int, Parameter(ge=1, le=1000)]
EDITORS = require(Role.EDITOR)
_READ_ERRORS = (400, 401, 403, 429)
_WRITE_ERRORS = (400, 401, 403, 415, 422, 429)


def provide_contacts(state: State) -> Contacts:
    """The contacts application."""
    container: Container = state.container
    return container.contacts


def _given(value: Any) -> Any:
    return KEEP if value is msgspec.UNSET else value


def _from_row(row: ContactRow) -> Contact:
    return Contact(**vars(row))


def _from_aggregate(c: ContactAggregate) -> Contact:
    return Contact(c.id, c.email, c.email_domain, c.timezone, c.locale, dict(sorted(c.attributes.items())),
                   stamp(c.created_on), stamp(c.modified_on))  # fmt: skip


def _row(container: Container, contact_id: UUID) -> ContactRow:
    row = get_contact(container.db, contact_id)
    if row is None:
        raise NotFound(f"contact {contact_id} not found")
    return row


def _cursor(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        raise bad_cursor() from None


class ContactsController(Controller):
    """People we write to. Reads: any role; writes: editor (or admin)."""

    path = "/contacts"
    tags = ["contacts"]
    guards = [ANY_ROLE]
    dependencies = {"contacts": Provide(provide_contacts, sync_to_thread=False)}

    @post("/", operation_id="upsertContact", guards=[EDITORS], sync_to_thread=True,
          responses=documented(*_WRITE_ERRORS, 409))  # fmt: skip
    def upsert(
        self, data: JSONBody[ContactCreate], contacts: NamedDependency[Contacts], container: NamedDependency[Container]
    ) -> Response[Contact]:
        """Create the contact of this email (201), or update it (200); unchanged fields record nothing."""
        with because(data.reason):
            contact, outcome = contacts.upsert(
                ContactInput(data.email, data.attributes, _given(data.timezone), _given(data.locale))
            )
        container.settle()
        return Response(_from_aggregate(contact), status_code=201 if outcome is Outcome.CREATED else 200)

    @get("/", operation_id="listContacts", sync_to_thread=True, responses=documented(*_READ_ERRORS, 422))
    def list(
        self,
        container: NamedDependency[Container],
        email: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 100,
    ) -> ContactPage:
        """Contacts in id order, or the one with ``email``; page with the cursor."""
        if email is not None:
            row = find_by_email(container.db, clean_email(email))
            return ContactPage([_from_row(row)] if row else [], None)
        rows = list_contacts(container.db, _cursor(cursor), limit)
        return ContactPage([_from_row(r) for r in rows], str(rows[-1].id) if len(rows) == limit else None)

    @get("/{contact_id:uuid}", operation_id="getContact", sync_to_thread=True,
         responses=documented(*_READ_ERRORS, 404))  # fmt: skip
    def read(self, contact_id: FromPath[UUID], container: NamedDependency[Container]) -> Contact:
        """One contact."""
        return _from_row(_row(container, contact_id))

    @patch("/{contact_id:uuid}", operation_id="updateContact", guards=[EDITORS], sync_to_thread=True,
           responses=documented(*_WRITE_ERRORS, 404, 409))  # fmt: skip
    def update(
        self,
        contact_id: FromPath[UUID],
        data: JSONBody[ContactUpdate],
        contacts: NamedDependency[Contacts],
        container: NamedDependency[Container],
    ) -> Contact:
        """Set or (with null) remove attributes, change time zone or locale."""
        with because(data.reason):
            contact, _ = contacts.patch(contact_id, data.attributes, _given(data.timezone), _given(data.locale))
        container.settle()
        return _from_aggregate(contact)

    @get("/{contact_id:uuid}/events", operation_id="listContactEmailEvents", sync_to_thread=True,
         responses=documented(*_READ_ERRORS, 404, 422))  # fmt: skip
    def events(
        self,
        contact_id: FromPath[UUID],
        container: NamedDependency[Container],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 100,
    ) -> ContactEventPage:
        """Normalized email events sent to this contact's address, oldest first."""
        if cursor and not cursor.isdigit():
            raise bad_cursor()
        rows = contact_events(container.db, _row(container, contact_id).email, int(cursor or 0), limit)
        items = [EmailEvent(**{k: v for k, v in r.items() if k not in ("seq", "dedup_key")}) for r in rows]
        return ContactEventPage(items, str(rows[-1]["seq"]) if len(rows) == limit else None)
