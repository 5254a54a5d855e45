"""Where a preference or suppression change came from, and when it happened in the world (ADR 0004 §1).

``source`` sits beside the actor/request/reason every event carries: the actor says *who* (an API key,
an ESP connection, a contact), the source says *through which channel*, which is what the rules read
(an ESP resubscribe may not undo a newer change of ours). ``effective_at`` is the instant the change
happened in the world; for an ESP-reported change that is the ESP's event time, not when we learned it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from domain.errors import Invalid


class Source(StrEnum):
    """The channel a change came through."""

    CONTACT = "contact"  # the contact, through a signed link
    ADMIN = "admin"  # an API key or an operator
    ESP = "esp"  # a webhook policy
    IMPORT = "import"
    SYSTEM = "system"


class UnknownSource(Invalid):
    """Sources are a closed set."""

    code = "unknown_source"


class InvalidInstant(Invalid):
    """Instants must carry a time zone offset: a naive time means different moments to different readers."""

    code = "invalid_instant"


def clean_source(value: object) -> Source:
    """The source named by ``value``, or ``UnknownSource``."""
    try:
        return Source(str(value))
    except ValueError:
        raise UnknownSource(f"unknown source {value!r}", field="source", allowed=[s.value for s in Source]) from None


def clean_instant(value: datetime | None, field: str = "effective_at") -> datetime:
    """``value`` in UTC (now when None); ``InvalidInstant`` when it has no offset."""
    if value is None:
        return datetime.now(UTC)
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInstant(f"{field} must be a date-time with a time zone offset", field=field)
    return value.astimezone(UTC)
