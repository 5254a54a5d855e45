"""The contact pages' view of the preference model: read a contact's choices, save the ones that changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.contact_preferences import KEEP
from domain.preference_sources import Source
from interfaces.bootstrap import Container
from interfaces.http.pages.preference_form import Category, Choices, pause_day, pause_instant
from projections.preferences import get_category, list_categories


@dataclass(frozen=True)
class Scope:
    """What an unsubscribe link unsubscribes from: one category, or all marketing email."""

    category: str | None
    name: str | None

    @classmethod
    def of(cls, container: Container, category: str | None) -> Scope:
        """The scope of a link's category; a key we do not know falls back to everything.

        Tokens only carry keys we signed, so an unknown key means a sender's mistake; the recipient still
        asked to stop, and RFC 8058 gives us one request to honour it, so we stop everything.
        """
        row = get_category(container.db, category) if category else None
        return cls(row.key, row.name) if row else cls(None, None)

    @property
    def question(self) -> str:
        """The confirmation page's sentence."""
        if self.name:
            return f"Unsubscribe from “{self.name}”? You will keep receiving our other email."
        return "Unsubscribe from all our marketing email?"

    @property
    def done(self) -> str:
        """The page's sentence once done."""
        if self.name:
            return f"You will no longer receive “{self.name}”."
        return "You will no longer receive marketing email from us."


def unsubscribe(container: Container, contact_id: UUID, scope: Scope) -> bool:
    """Unsubscribe (idempotent: again changes nothing); whether anything changed."""
    if scope.category:
        return container.preferences.choose(contact_id, {scope.category: False}, Source.CONTACT)
    return container.preferences.opt_out(contact_id, Source.CONTACT)


def active_categories(container: Container) -> list[Category]:
    """The categories a contact may choose from, by key."""
    return [Category(c.key, c.name, c.description, c.default_subscribed) for c in list_categories(container.db)]


def current_choices(
    container: Container, contact_id: UUID, categories: list[Category], zone: ZoneInfo, now: datetime
) -> Choices:
    """The contact's preferences now, read from the event store (a save shows at once, whatever the lag)."""
    prefs = container.preferences.get(contact_id)
    subscribed = {c.key: prefs.categories.get(c.key, c.default_subscribed) for c in categories}
    frequency = dict(prefs.frequency) if prefs.frequency else None
    return Choices(prefs.opted_out, subscribed, frequency, pause_day(prefs.paused_until, zone, now))


def save_choices(container: Container, contact_id: UUID, before: Choices, after: Choices, zone: ZoneInfo) -> bool:
    """Record what differs between ``before`` and ``after`` as the contact's own change, in one save."""
    # Only categories whose effective value changed: an untouched default stays a default.
    changed = {k: v for k, v in after.subscribed.items() if before.subscribed.get(k) != v}
    changes: dict[str, Any] = {
        "opted_out": after.opted_out if after.opted_out != before.opted_out else None,
        "categories": changed or None,
        "frequency": after.frequency if after.frequency != before.frequency else KEEP,
        "paused_until": pause_instant(after.pause_until, zone) if after.pause_until != before.pause_until else KEEP,
    }
    return container.preferences.change(contact_id, Source.CONTACT, **changes)[1]
