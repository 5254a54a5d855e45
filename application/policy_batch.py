"""One transaction for many policy commands: each aggregate loaded once, every change saved together.

The policies reactor follows webhook deliveries of hundreds of events; a hard bounce in every sixth one
made a transaction each (load, append, commit), which kept the read models thousands of commits behind
the acks. Applied in order to aggregates held here, the commands decide exactly as they would one by one
(a later command sees an earlier one's change), and ``commit`` saves them all atomically: a version clash
with a concurrent writer saves nothing, and the caller decides the whole batch again on fresh state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from uuid import UUID

from application.preferences import Preferences, UnknownContact
from application.suppressions import Suppressions
from domain.contact import Contact
from domain.contact_preferences import ContactPreferences, preferences_id
from domain.errors import NotFound
from domain.preference_sources import Source
from domain.suppression import Suppression, suppression_id


class PolicyBatch:
    """The aggregates a batch of policy commands touches, cached until ``commit``."""

    def __init__(self, preferences: Preferences, suppressions: Suppressions) -> None:
        self._preferences = preferences
        self._suppressions = suppressions
        self._suppression: dict[str, Suppression | None] = {}
        self._prefs: dict[UUID, ContactPreferences] = {}
        self._contacts: dict[UUID, bool] = {}

    def prefetch(self, addresses: Iterable[str], contact_ids: Iterable[UUID]) -> None:
        """Read these addresses' suppressions and these contacts (and their preferences) in a few queries,
        instead of one query each on first use."""
        wanted = {suppression_id(a): a for a in addresses if a not in self._suppression}
        found = self._suppressions.load_many_of(list(wanted), Suppression)
        self._suppression.update({address: found.get(sid) for sid, address in wanted.items()})
        contacts = [c for c in dict.fromkeys(contact_ids) if c not in self._contacts]
        existing = self._preferences.load_many_of(contacts, Contact)
        self._contacts.update({c: c in existing for c in contacts})
        prefs = self._preferences.load_many_of([preferences_id(c) for c in existing], ContactPreferences)
        for contact_id in existing:
            # A contact that never changed a preference starts fresh, without asking again on first use.
            self._prefs[contact_id] = prefs.get(preferences_id(contact_id)) or ContactPreferences.start(
                contact_id, Source.ESP
            )

    def suppression(self, address: str) -> Suppression | None:
        """The address's suppression record as this batch has left it; None when it never was suppressed."""
        if address not in self._suppression:
            self._suppression[address] = self._suppressions.find(address)
        return self._suppression[address]

    def suppression_to_change(self, address: str, effective_at: datetime) -> Suppression:
        """The record to suppress: the existing one, or a new one kept for the commit."""
        record = self.suppression(address)
        if record is None:
            record = self._suppression[address] = Suppression.open(address, Source.ESP, effective_at)
        return record

    def preferences(self, contact_id: UUID, choices: Mapping[str, bool] | None = None) -> ContactPreferences:
        """The contact's preferences as this batch has left them; ``UnknownContact`` for no contact, and the
        category checks of the preference use cases for ``choices``."""
        if contact_id not in self._contacts:
            try:
                self._preferences.load(contact_id, Contact)
                self._contacts[contact_id] = True
            except NotFound:
                self._contacts[contact_id] = False
        if not self._contacts[contact_id]:
            raise UnknownContact(f"contact {contact_id} not found", contact_id=str(contact_id))
        self._preferences.check_categories(choices or {})
        if contact_id not in self._prefs:
            try:
                found: ContactPreferences = self._preferences.load(preferences_id(contact_id), ContactPreferences)
            except NotFound:
                found = ContactPreferences.start(contact_id, Source.ESP)
            self._prefs[contact_id] = found
        return self._prefs[contact_id]

    def commit(self) -> int:
        """Save every aggregate with new events in one transaction; how many were saved.

        Every policy command carries a cause, so an aggregate with pending events either changed or
        noted a cause; a fresh record that did neither holds none worth keeping and has none pending
        beyond its start, which is dropped here.
        """
        changed: list[Suppression | ContactPreferences] = [
            a for a in (*self._suppression.values(), *self._prefs.values()) if a is not None and _worth_saving(a)
        ]
        if changed:
            self._suppressions.save(*changed)
        return len(changed)


def _worth_saving(aggregate: Suppression | ContactPreferences) -> bool:
    # A start (Opened / Started) alone is not a change.
    return len(aggregate.pending_events) > (1 if aggregate.version == len(aggregate.pending_events) else 0)
