"""Contact use cases: upsert by email, read, patch, and staging many upserts for one atomic save.

An upsert never looks at a read model: the contact id comes from the address, so the store alone says
whether the contact exists (and its version check catches a racing create).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

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
        return self.load_many_of(contact_ids, Contact)
