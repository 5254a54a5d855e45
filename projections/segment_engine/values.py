"""Values in definitions, typed as ADR 0003 §5 types attributes: numbers, booleans, dates, else text."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from domain.contact_fields import parse_datetime
from projections.email_events import stamp

Kind = Literal["number", "boolean", "datetime", "string"]

MAX_TEXT = 2000  # as contact attribute strings


def parse_instant(text: str) -> datetime | None:
    """The UTC instant of an ISO 8601 date or date-time with offset, by the rule the contacts read model uses."""
    moment = parse_datetime(text)
    try:
        stamp(moment) if moment is not None else None
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first representable UTC instant
        return None
    return moment


def kind_of(value: Any) -> Kind | None:
    """The type a definition value compares in, or None when it is no scalar we compare."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        try:
            return "number" if math.isfinite(float(value)) else None
        except OverflowError:  # an integer beyond any double
            return None
    if isinstance(value, str):
        return "datetime" if parse_instant(value) is not None else "string"
    return None


def sql_value(value: Any, kind: Kind) -> Any:
    """The parameter a value binds as, for the column its kind is stored in."""
    if kind == "datetime":
        moment = parse_instant(value)
        assert moment is not None
        return stamp(moment)
    if kind in ("number", "boolean"):
        return float(value)
    return value


def clean_text(value: Any) -> bool:
    """A string both databases can hold and compare: no NUL (PostgreSQL text refuses it), valid UTF-8."""
    if not isinstance(value, str) or "\x00" in value or len(value) > MAX_TEXT:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, which json.loads lets through
        return False
    return True
