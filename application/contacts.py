"""Contact use cases: upsert by email, read, patch, and staging many upserts for one atomic save.

An upsert never looks at a read model: the contact id comes from the address, so the store alone says
whether the contact exists (and its version check catches a racing create).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.base import TidingsApplication
from domain.contact import KEEP, Contact
from domain.contact_fields import clean_email
from domain.email_address import contact_id_for
from domain.errors import Conflict, NotFound


class Outcome(StrEnum):
    """What an upsert did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class ContactInput:
    """One contact as a client or an import row states it; ``KEEP`` leaves a field as it is."""

    email: object
    attributes: Mapping[str, object] = field(default_factory=dict)
    timezone: object = KEEP
    locale: object = KEEP


def apply_input(existing: Contact | None, data: ContactInput) -> tuple[Contact, Outcome]:
    """Register the contact, or update the existing one; nothing is recorded when nothing changes."""
    if existing is None:
        timezone = None if data.timezone is KEEP else data.timezone
        locale = None if data.locale is KEEP else data.locale
        return Contact.register(data.email, data.attributes, timezone, locale), Outcome.CREATED
    changed = existing.update(data.attributes, data.timezone, data.locale)
    return existing, Outcome.UPDATED if changed else Outcome.UNCHANGED


class Contacts(TidingsApplication):
    """Upsert, read and patch contacts."""

    def upsert(self, data: ContactInput) -> tuple[Contact, Outcome]:
        """Create the contact of this address, or update it; a racing create is retried as an update."""
        contact_id = contact_id_for(clean_email(data.email))
        for _ in range(3):
            contact, outcome = apply_input(self._find(contact_id), data)
            try:
                self.save(contact)
            except Conflict:
                continue
            return contact, outcome
        raise Conflict("the contact kept changing while it was being saved; retry")

    def get(self, contact_id: UUID) -> Contact:
        """The contact's current state."""
        contact: Contact = self.load(contact_id, Contact)
        return contact

    def patch(
        self, contact_id: UUID, attributes: Mapping[str, object] | None, timezone: object, locale: object
    ) -> tuple[Contact, bool]:
        """Change some fields of an existing contact; returns it and whether anything changed."""
        contact = self.get(contact_id)
        changed = contact.update(attributes, timezone, locale)
        self.save(contact)
        return contact, changed

    def _find(self, contact_id: UUID) -> Contact | None:
        try:
            return self.get(contact_id)
        except NotFound:
            return None

    def load_many(self, contact_ids: Sequence[UUID]) -> dict[UUID, Contact]:
        """The existing contacts among ``contact_ids``, read from the store in one query."""
        rebuilt: dict[UUID, Any] = {}
        for stored in _select_events(self.recorder, contact_ids):
            event: Any = self.mapper.to_domain_event(stored)
            rebuilt[event.originator_id] = event.mutate(rebuilt.get(event.originator_id))
        return {cid: c for cid, c in rebuilt.items() if isinstance(c, Contact)}


_CHUNK = 900  # below SQLite's oldest limit of 999 parameters


def _select_events(recorder: Any, ids: Sequence[UUID]) -> list[StoredEvent]:
    """Every stored event of these aggregates, in version order per aggregate.

    The library reads one aggregate per query; an import batch needs a thousand at once, so this asks
    the recorder's own datastore directly (a read, and only of the events table the library owns).
    """
    return [e for i in range(0, len(ids), _CHUNK) for e in _select_chunk(recorder, ids[i : i + _CHUNK])]


def _select_chunk(recorder: Any, ids: Sequence[UUID]) -> list[StoredEvent]:
    datastore = recorder.datastore
    table = recorder.events_table_name
    columns = "originator_id, originator_version, topic, state"
    if type(datastore).__name__.startswith("Postgres"):
        from psycopg.sql import SQL, Identifier  # noqa: PLC0415 - only the PostgreSQL store needs psycopg

        query = SQL(
            "SELECT " + columns + " FROM {}.{} WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(Identifier(datastore.schema), Identifier(table))
        with datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(query, (list(ids),))
            rows = cursor.fetchall()
        return [StoredEvent(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"])) for r in rows]
    marks = ", ".join("?" for _ in ids)
    where = f"originator_id IN ({marks}) ORDER BY originator_id, originator_version"
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE {where}", [i.hex for i in ids])
        rows = cursor.fetchall()
    return [StoredEvent(UUID(r["originator_id"]), r["originator_version"], r["topic"], r["state"]) for r in rows]
