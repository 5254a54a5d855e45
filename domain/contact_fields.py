"""A contact's fields as Tidings accepts them: typed attributes, an IANA time zone, a BCP 47 locale.

Every refusal names the field it is about (``details["field"]``), so the API answers 422 pointing at it
and an import reports it per row.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import Any

from domain.email_address import InvalidEmail, normalize_email
from domain.errors import Invalid

AttributeValue = str | int | float | bool

MAX_ATTRIBUTES = 200
MAX_NAME = 64
MAX_TEXT = 2000
# Integers beyond 2**53 lose digits as a double (the read model's num_value): refuse them, keep them as text.
MAX_EXACT_INTEGER = 2**53
# Built-in fields of the segment language and columns of the contacts read model: never attribute names.
RESERVED_NAMES = frozenset({"email", "email_domain", "timezone", "locale", "created_at", "updated_at", "id"})
_valid_names: set[str] = set()
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# language(-script)(-region)(-variant)*: the subset of BCP 47 that mail clients and CLDR actually use.
_LOCALE = re.compile(
    r"^(?P<language>[A-Za-z]{2,3})(?:-(?P<script>[A-Za-z]{4}))?(?:-(?P<region>[A-Za-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*)$"
)
# What ADR 0003 calls a datetime: an ISO 8601 date, or a date-time with an offset (Z or +hh:mm).
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})$")


class UnknownTimezone(Invalid):
    """Time zones are IANA names (``Europe/Paris``), checked against the tz database."""

    code = "unknown_timezone"


class InvalidLocale(Invalid):
    """Locales are BCP 47 tags such as ``en``, ``fr-CA`` or ``zh-Hant-TW``."""

    code = "invalid_locale"


class InvalidAttributeName(Invalid):
    """Attribute names are identifiers that do not collide with the built-in fields."""

    code = "invalid_attribute_name"


class InvalidAttributeValue(Invalid):
    """Attribute values are strings, numbers, booleans or ISO 8601 date strings; never objects or arrays."""

    code = "invalid_attribute_value"


class TooManyAttributes(Invalid):
    """A contact holds a bounded number of attributes."""

    code = "too_many_attributes"


def clean_email(value: object) -> str:
    """The normalized address, or ``InvalidEmail`` naming the ``email`` field."""
    if not isinstance(value, str):
        raise InvalidEmail("email must be a string", field="email")
    return _normalized(value)


# An import checks each row's address, then registers the contact with it: remember the recent ones.
@lru_cache(maxsize=8192)
def _normalized(value: str) -> str:
    try:
        return normalize_email(value)
    except InvalidEmail as exc:
        raise InvalidEmail(exc.message, field="email", **exc.details) from None


@cache
def _zones() -> dict[str, str]:
    # Lower-cased name -> canonical spelling, so "europe/paris" is accepted as "Europe/Paris".
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def clean_timezone(value: object) -> str | None:
    """The canonical IANA name, ``None`` to clear, or ``UnknownTimezone``."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise UnknownTimezone("timezone must be an IANA time zone name such as Europe/Paris", field="timezone")
    name = _zones().get(value.strip().lower())
    if name is None:
        raise UnknownTimezone(
            f"unknown time zone {value.strip()[:64]!r}; use an IANA name such as Europe/Paris", field="timezone"
        )
    return name


def clean_locale(value: object) -> str | None:
    """The tag in canonical case (``pt-BR``, ``zh-Hant-TW``), ``None`` to clear, or ``InvalidLocale``."""
    if value is None:
        return None
    text = value.strip().replace("_", "-") if isinstance(value, str) else ""
    match = _LOCALE.match(text) if len(text) <= 35 else None
    if match is None:
        shown = value[:40] if isinstance(value, str) else type(value).__name__
        raise InvalidLocale(f"locale {shown!r} is not a BCP 47 tag such as en, fr-CA or zh-Hant-TW", field="locale")
    parts = [match["language"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    return "-".join(parts) + match["variants"].lower()


def clean_attribute_name(name: object) -> str:
    """The name unchanged, or ``InvalidAttributeName``."""
    if isinstance(name, str) and name in _valid_names:
        return name
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > MAX_NAME:
        shown = name[:80] if isinstance(name, str) else repr(name)[:80]
        raise InvalidAttributeName(
            f"attribute name {shown!r} must start with a letter and hold only letters, digits and _ "
            f"(at most {MAX_NAME} characters)",
            field=f"attributes.{shown}",
        )
    if name.lower() in RESERVED_NAMES:
        raise InvalidAttributeName(
            f"{name!r} is a built-in contact field, not an attribute", field=f"attributes.{name}"
        )
    if len(_valid_names) < 10_000:  # every row of an import names the same few attributes
        _valid_names.add(name)
    return name


def clean_attribute_value(name: str, value: object) -> AttributeValue:
    """The value in canonical form (integral floats become ints), or ``InvalidAttributeValue``."""
    field = f"attributes.{name}"
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_EXACT_INTEGER:
            raise InvalidAttributeValue("numbers must be within ±2^53; store longer identifiers as strings",
                                        field=field)  # fmt: skip
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidAttributeValue("numbers must be finite", field=field)
        return int(value) if value.is_integer() and abs(value) <= MAX_EXACT_INTEGER else value
    if isinstance(value, str):
        if len(value) > MAX_TEXT or "\x00" in value:
            raise InvalidAttributeValue(f"strings are at most {MAX_TEXT} characters, without NUL", field=field)
        return value
    kind = "objects" if isinstance(value, Mapping) else "arrays" if isinstance(value, list | tuple) else "values"
    raise InvalidAttributeValue(
        f"nested {kind} are not attribute values; use a string, number, boolean or ISO 8601 date string",
        field=field,
        type=type(value).__name__,
    )


class CheckedAttributes(dict[str, AttributeValue | None]):
    """Attribute changes that ``clean_attribute_changes`` has already checked, so checking them again is free
    (an import checks each row on its own, then registers the contact with the same changes)."""


def clean_attribute_changes(changes: Mapping[str, object]) -> CheckedAttributes:
    """Checked names and values; ``None`` means "remove this attribute"."""
    if isinstance(changes, CheckedAttributes):
        return changes
    return CheckedAttributes(
        (clean_attribute_name(name), None if value is None else clean_attribute_value(name, value))
        for name, value in changes.items()
    )


def same_value(a: Any, b: Any) -> bool:
    """Equal in kind and value: ``True`` is not ``1``, though ``1`` is ``1.0`` (both are canonical ints)."""
    return type(a) is type(b) and a == b


def parse_datetime(value: str) -> datetime | None:
    """The instant an ISO 8601 date (midnight UTC) or date-time-with-offset string names, else ``None``."""
    try:
        if _ISO_DATE.match(value):
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        if _ISO_DATETIME.match(value):
            return datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:  # matched the shape but not the calendar (2026-02-30)
        return None
    return None
