"""A contact: one normalized email address (its identity), typed attributes, a time zone and a locale.

The id is derived from the address (ADR 0003), so an upsert needs no lookup and two racing creates of
one address collide on the store's version check. An update that changes nothing records nothing, which
is what makes re-importing the same file a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from uuid import UUID

from eventsourcing.domain import event

from domain.contact_fields import (
    MAX_ATTRIBUTES,
    AttributeValue,
    TooManyAttributes,
    clean_attribute_changes,
    clean_email,
    clean_locale,
    clean_timezone,
    same_value,
)
from domain.email_address import contact_id_for, email_domain
from domain.events import TidingsAggregate


class _Keep:
    """The "not given" marker: the field keeps its value (``None`` would clear it)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


def _check_count(count: int) -> None:
    if count > MAX_ATTRIBUTES:
        raise TooManyAttributes(f"a contact holds at most {MAX_ATTRIBUTES} attributes", field="attributes",
                                count=count)  # fmt: skip


class Contact(TidingsAggregate):
    """Who we write to, and what we know about them."""

    @classmethod
    def register(
        cls,
        email: object,
        attributes: Mapping[str, object] | None = None,
        timezone: object = None,
        locale: object = None,
    ) -> Contact:
        """A new contact; attributes given as ``None`` are simply not set."""
        address = clean_email(email)
        changes = clean_attribute_changes(attributes or {})
        values = {name: value for name, value in sorted(changes.items()) if value is not None}
        _check_count(len(values))
        return cls(
            id=contact_id_for(address),
            email=address,
            attributes=values,
            timezone=clean_timezone(timezone),
            locale=clean_locale(locale),
        )

    @event("Registered")
    def __init__(
        self,
        id: UUID,  # noqa: A002
        email: str,
        attributes: dict[str, Any],
        timezone: str | None,
        locale: str | None,
    ) -> None:
        self.email = email
        self.attributes: dict[str, AttributeValue] = dict(attributes)
        self.timezone = timezone
        self.locale = locale

    @property
    def email_domain(self) -> str:
        """The part after the @."""
        return email_domain(self.email)

    def update(
        self, attributes: Mapping[str, object] | None = None, timezone: object = KEEP, locale: object = KEEP
    ) -> bool:
        """Set (or with ``None`` remove) attributes and change time zone or locale; False when nothing changed.

        Everything is checked before anything is recorded, so a refused update records nothing.
        """
        changes = clean_attribute_changes(attributes or {})
        new_timezone = self.timezone if timezone is KEEP else clean_timezone(timezone)
        new_locale = self.locale if locale is KEEP else clean_locale(locale)
        to_set = {
            name: value
            for name, value in sorted(changes.items())
            if value is not None and not same_value(self.attributes.get(name), value)
        }
        to_unset = sorted(name for name, value in changes.items() if value is None and name in self.attributes)
        _check_count(len(self.attributes.keys() | to_set.keys()) - len(to_unset))
        recorded = False
        if to_set or to_unset:
            self._attributes_changed(to_set, to_unset)
            recorded = True
        if new_timezone != self.timezone:
            self._timezone_changed(new_timezone)
            recorded = True
        if new_locale != self.locale:
            self._locale_changed(new_locale)
            recorded = True
        return recorded

    @event("AttributesChanged")
    def _attributes_changed(self, set: dict[str, Any], unset: list[str]) -> None:  # noqa: A002
        self.attributes.update(set)
        for name in unset:
            self.attributes.pop(name, None)

    @event("TimezoneChanged")
    def _timezone_changed(self, timezone: str | None) -> None:
        self.timezone = timezone

    @event("LocaleChanged")
    def _locale_changed(self, locale: str | None) -> None:
        self.locale = locale
