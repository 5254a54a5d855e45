"""Preference use cases: manage categories, and change a contact's preferences from any source.

Every change names its ``source`` and ``effective_at`` (ADR 0004). Commands are idempotent by
construction: a change to the current value records nothing, and a change whose ``cause`` was already
applied is ignored, so a policy may issue the same command twice. A version clash (two changes of one
contact at once) is retried on fresh state, where the idempotent command is simply re-decided.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from application.base import TidingsApplication
from domain.contact import Contact
from domain.contact_preferences import KEEP, ContactPreferences, clean_choices, preferences_id
from domain.errors import Conflict, NotFound
from domain.preference_category import CategoryArchived, PreferenceCategory, UnknownCategory, category_id, clean_key
from domain.preference_sources import Source

ATTEMPTS = 4
T = TypeVar("T")


class UnknownContact(NotFound):
    """Preferences belong to an existing contact."""

    code = "unknown_contact"


def retry_on_race(attempt: Callable[[], T]) -> T:
    """Run ``attempt``; on a version clash run it again on fresh state (a few times)."""
    for _ in range(ATTEMPTS - 1):
        try:
            return attempt()
        except Conflict as exc:
            if type(exc) is not Conflict:  # a rule's conflict is an answer, not a race
                raise
    return attempt()


class Preferences(TidingsApplication):
    """Preference categories, and each contact's preferences."""

    # -- categories ----------------------------------------------------------------------------

    def define_category(
        self, key: str, name: str, description: str = "", default_subscribed: bool = True, source: object = Source.ADMIN
    ) -> PreferenceCategory:
        """A new category; defining an existing key is a ``Conflict``."""
        category = PreferenceCategory.define(
            key, name, description=description, default_subscribed=default_subscribed, source=source
        )
        self.save(category)
        return category

    def category(self, key: str) -> PreferenceCategory:
        """The category with this key, or ``UnknownCategory``."""
        try:
            category: PreferenceCategory = self.load(category_id(clean_key(key)), PreferenceCategory)
        except NotFound:
            raise UnknownCategory(f"no preference category {key!r}", key=key) from None
        return category

    def update_category(self, key: str, source: object = Source.ADMIN, **changes: Any) -> PreferenceCategory:
        """Change name, description and/or default (``None``: keep); an archived category is refused."""
        category = self.category(key)
        category.update(source=source, **changes)
        self.save(category)
        return category

    def archive_category(self, key: str, source: object = Source.ADMIN) -> PreferenceCategory:
        """Retire a category (again: no-op)."""
        category = self.category(key)
        category.archive(source)
        self.save(category)
        return category

    # -- a contact's preferences -----------------------------------------------------------------

    def get(self, contact_id: UUID) -> ContactPreferences:
        """The contact's preferences (fresh defaults, unsaved, before their first change)."""
        self._require_contact(contact_id)
        return self._current(contact_id)

    def change(
        self,
        contact_id: UUID,
        source: object,
        *,
        opted_out: bool | None = None,
        categories: Mapping[str, object] | None = None,
        frequency: object = KEEP,
        paused_until: object = KEEP,
        effective_at: datetime | None = None,
        cause: str | None = None,
    ) -> tuple[ContactPreferences, bool]:
        """Apply the given settings in one atomic save; the preferences and whether anything changed."""
        self._require_contact(contact_id)
        self.check_categories(categories or {})

        def attempt() -> tuple[ContactPreferences, bool]:
            prefs = self._current(contact_id, source)
            changed = prefs.change(
                opted_out=opted_out,
                categories=categories,
                frequency=frequency,
                paused_until=paused_until,
                source=source,
                effective_at=effective_at,
                cause=cause,
            )
            # A fresh start alone is not worth a save; a change or a cause noted without one is.
            if changed or (cause is not None and prefs.pending_events):
                self.save(prefs)
            return prefs, changed

        return retry_on_race(attempt)

    def opt_out(self, contact_id: UUID, source: object, effective_at: datetime | None = None,
                cause: str | None = None) -> bool:  # fmt: skip
        """Opt the contact out of all marketing email."""
        return self.change(contact_id, source, opted_out=True, effective_at=effective_at, cause=cause)[1]

    def opt_in(self, contact_id: UUID, source: object, effective_at: datetime | None = None,
               cause: str | None = None) -> bool:  # fmt: skip
        """End a global opt-out."""
        return self.change(contact_id, source, opted_out=False, effective_at=effective_at, cause=cause)[1]

    def choose(self, contact_id: UUID, choices: Mapping[str, bool], source: object,
               effective_at: datetime | None = None, cause: str | None = None) -> bool:  # fmt: skip
        """Subscribe to (true) or unsubscribe from (false) categories."""
        return self.change(contact_id, source, categories=choices, effective_at=effective_at, cause=cause)[1]

    def set_frequency(self, contact_id: UUID, frequency: object, source: object,
                      effective_at: datetime | None = None) -> bool:  # fmt: skip
        """Cap how often mail goes out (None: no cap)."""
        return self.change(contact_id, source, frequency=frequency, effective_at=effective_at)[1]

    def pause(self, contact_id: UUID, until: datetime | None, source: object,
              effective_at: datetime | None = None) -> bool:  # fmt: skip
        """Pause marketing email until ``until`` (None: unpause)."""
        return self.change(contact_id, source, paused_until=until, effective_at=effective_at)[1]

    def resubscribe_if_newer(
        self, contact_id: UUID, effective_at: datetime, cause: str | None, category: str | None = None,
        source: object = Source.ESP,
    ) -> bool:  # fmt: skip
        """An ESP-reported resubscribe: applied only when it happened after our last change (ours wins)."""
        self._require_contact(contact_id)
        self.check_categories({category: True} if category else {})

        def attempt() -> bool:
            prefs = self._current(contact_id, source)
            changed = prefs.opt_in_if_newer(effective_at, cause, category, source)
            if changed or (cause is not None and prefs.pending_events):
                self.save(prefs)
            return changed

        return retry_on_race(attempt)

    def check_resubscribe(self, contact_id: UUID, now: datetime) -> None:
        """Whether a re-subscribe confirmation may go out now: ``NothingToConfirm`` or ``ResubscribeTooSoon`` if not."""
        self.get(contact_id).check_resubscribe_request(now)

    def request_resubscribe(self, contact_id: UUID, message_id: UUID, requested_at: datetime) -> None:
        """Record that a re-subscribe confirmation (email ``message_id``) was sent to the contact."""
        self._require_contact(contact_id)

        def attempt() -> None:
            prefs = self._current(contact_id)
            prefs.request_resubscribe(message_id, requested_at)
            self.save(prefs)

        retry_on_race(attempt)

    def _current(self, contact_id: UUID, source: object = Source.SYSTEM) -> ContactPreferences:
        try:
            prefs: ContactPreferences = self.load(preferences_id(contact_id), ContactPreferences)
        except NotFound:
            return ContactPreferences.start(contact_id, source)
        return prefs

    def _require_contact(self, contact_id: UUID) -> None:
        try:
            self.load(contact_id, Contact)
        except NotFound:
            raise UnknownContact(f"contact {contact_id} not found", contact_id=str(contact_id)) from None

    def check_categories(self, choices: Mapping[str, object]) -> None:
        """``UnknownCategory`` for a key never defined; ``CategoryArchived`` for opting in to an archived one."""
        # Unsubscribing from an archived category is allowed (it only ever sends less); opting in is not.
        for key, subscribed in clean_choices(choices).items():
            category = self.category(key)
            if subscribed and category.archived:
                raise CategoryArchived(f"category {key!r} is archived", key=key, field=f"categories.{key}")
