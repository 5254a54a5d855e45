"""A preference category (topic): what contacts opt in to or out of, and whether they start opted in.

The id is derived from the key, so defining a key twice collides on the store's version check (409).
Categories are archived, never deleted: old choices and old mail keep naming them.
"""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.api_key import clean_name
from domain.errors import Invalid, NotFound, RuleViolated
from domain.events import TidingsAggregate
from domain.ids import PREFERENCE_CATEGORIES
from domain.preference_sources import Source, clean_instant, clean_source
from domain.segment import clean_description

KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
KEY_RULE = "a category key is 1 to 64 lower-case letters, digits, '_' and '-', starting with a letter or digit"


class InvalidCategoryKey(Invalid):
    """Category keys are slugs: they appear in links, segment definitions and ESP metadata verbatim."""

    code = "invalid_category_key"


class UnknownCategory(NotFound):
    """No category has this key."""

    code = "unknown_category"


class CategoryArchived(RuleViolated):
    """An archived category takes no more edits, and nobody may opt in to it."""

    code = "category_archived"


def clean_key(value: object, field: str = "key") -> str:
    """``value`` when it is a valid category key, else ``InvalidCategoryKey`` naming ``field``."""
    if not isinstance(value, str) or not KEY.fullmatch(value):
        raise InvalidCategoryKey(KEY_RULE, field=field, value=str(value)[:80])
    return value


def category_id(key: str) -> UUID:
    """The id of the category with this key."""
    return uuid5(PREFERENCE_CATEGORIES, key)


class PreferenceCategory(TidingsAggregate):
    """Key, name, description, the default for contacts without a choice, and whether it is archived."""

    @classmethod
    def define(
        cls,
        key: str,
        name: str,
        *,
        description: str = "",
        default_subscribed: bool = True,
        source: object = Source.ADMIN,
        effective_at: datetime | None = None,
    ) -> PreferenceCategory:
        """A new category."""
        key = clean_key(key)
        return cls(
            id=category_id(key),
            key=key,
            name=clean_name(name),
            description=clean_description(description),
            default_subscribed=bool(default_subscribed),
            source=clean_source(source).value,
            effective_at=clean_instant(effective_at),
        )

    @event("Defined")
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002
        key: str,
        name: str,
        description: str,
        default_subscribed: bool,
        source: str,
        effective_at: datetime,
    ) -> None:
        self.key = key
        self.name = name
        self.description = description
        self.default_subscribed = default_subscribed
        self.archived = False

    def update(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        default_subscribed: bool | None = None,
        source: object = Source.ADMIN,
        effective_at: datetime | None = None,
    ) -> bool:
        """Change any of name, description and default in one event; False (nothing recorded) when all equal."""
        self._require_active()
        new_name = self.name if name is None else clean_name(name)
        new_description = self.description if description is None else clean_description(description)
        new_default = self.default_subscribed if default_subscribed is None else bool(default_subscribed)
        if (new_name, new_description, new_default) == (self.name, self.description, self.default_subscribed):
            return False
        self._updated(
            key=self.key,
            name=new_name,
            description=new_description,
            default_subscribed=new_default,
            source=clean_source(source).value,
            effective_at=clean_instant(effective_at),
        )
        return True

    # The key is repeated on every event so that read models place a row without a lookup.
    @event("Updated")
    def _updated(
        self, *, key: str, name: str, description: str, default_subscribed: bool, source: str, effective_at: datetime
    ) -> None:
        self.name = name
        self.description = description
        self.default_subscribed = default_subscribed

    def archive(self, source: object = Source.ADMIN, effective_at: datetime | None = None) -> bool:
        """Retire the category (idempotent: archiving it again records nothing)."""
        if self.archived:
            return False
        self._archived(self.key, clean_source(source).value, clean_instant(effective_at))
        return True

    @event("Archived")
    def _archived(self, key: str, source: str, effective_at: datetime) -> None:
        self.archived = True

    def _require_active(self) -> None:
        if self.archived:
            raise CategoryArchived(f"category {self.key!r} is archived", key=self.key)
