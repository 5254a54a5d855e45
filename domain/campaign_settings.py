"""A campaign's sending settings (who it is from, through which ESP connection, in which preference category,
to which segments) and the checks on the free-text fields around the workflow.

Settings may be incomplete while a campaign is a draft; submission checks what is required.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.email_address import normalize_email
from domain.errors import Invalid
from domain.free_text import refuse_nul
from domain.preference_category import clean_key
from domain.preference_sources import clean_instant as _clean_instant

MAX_FROM_NAME = 200
MAX_NOTES = 10_000
MAX_COMMENT = 2_000
MAX_SEGMENTS = 100
MAX_AUDIENCE_BOUND = 1_000_000_000


class InvalidSettings(Invalid):
    """Sending settings must be usable in a message header and name distinct segments."""

    code = "invalid_settings"


@dataclass(frozen=True)
class CampaignSettings:
    """Everything about sending a campaign except its content."""

    category: str | None = None
    esp_connection_id: UUID | None = None
    from_name: str = ""
    from_address: str | None = None
    reply_to: str | None = None
    include_segments: tuple[UUID, ...] = ()
    exclude_segments: tuple[UUID, ...] = ()
    min_audience: int | None = None
    max_audience: int | None = None


def _segments(ids: tuple[UUID, ...] | list[UUID], field: str) -> tuple[UUID, ...]:
    unique = tuple(dict.fromkeys(ids))
    if len(unique) > MAX_SEGMENTS:
        raise InvalidSettings(f"at most {MAX_SEGMENTS} segments", field=field)
    return unique


def clean_settings(settings: CampaignSettings) -> CampaignSettings:
    """``settings`` with addresses normalized and segment lists de-duplicated, or an ``Invalid`` naming the field."""
    from_name = settings.from_name.strip()
    if "\r" in from_name or "\n" in from_name or len(from_name) > MAX_FROM_NAME:
        raise InvalidSettings(f"from_name is one line of at most {MAX_FROM_NAME} characters", field="from_name")
    refuse_nul(from_name, "from_name", InvalidSettings)
    include = _segments(settings.include_segments, "include_segments")
    exclude = _segments(settings.exclude_segments, "exclude_segments")
    if set(include) & set(exclude):
        overlap = sorted(str(s) for s in set(include) & set(exclude))
        raise InvalidSettings("a segment cannot be both included and excluded", field="exclude_segments", ids=overlap)
    _audience_bounds(settings.min_audience, settings.max_audience)
    return CampaignSettings(
        category=clean_key(settings.category, "category") if settings.category is not None else None,
        esp_connection_id=settings.esp_connection_id,
        from_name=from_name,
        from_address=normalize_email(settings.from_address) if settings.from_address is not None else None,
        reply_to=normalize_email(settings.reply_to) if settings.reply_to is not None else None,
        include_segments=include,
        exclude_segments=exclude,
        min_audience=settings.min_audience,
        max_audience=settings.max_audience,
    )


def _audience_bounds(minimum: int | None, maximum: int | None) -> None:
    # None defers to the global setting (domain.audience_size); bool is an int in Python, never a bound.
    for field, value in (("min_audience", minimum), ("max_audience", maximum)):
        if value is not None and (type(value) is not int or not 0 <= value <= MAX_AUDIENCE_BOUND):
            raise InvalidSettings(f"{field} is a whole number from 0 to {MAX_AUDIENCE_BOUND}", field=field)
    if minimum is not None and maximum is not None and minimum > maximum:
        raise InvalidSettings("min_audience cannot exceed max_audience", field="max_audience")


def clean_notes(value: str) -> str:
    """Trimmed internal notes of bounded size."""
    text = value.strip()
    if len(text) > MAX_NOTES:
        raise Invalid(f"notes must be at most {MAX_NOTES} characters", field="notes")
    refuse_nul(text, "notes", Invalid)
    return text


def clean_comment(value: str | None) -> str | None:
    """A trimmed review comment, ``None`` when empty."""
    text = (value or "").strip()
    if len(text) > MAX_COMMENT:
        raise Invalid(f"a comment must be at most {MAX_COMMENT} characters", field="comment")
    refuse_nul(text, "comment", Invalid)
    return text or None


def clean_instant(value: datetime, field: str) -> datetime:
    """``value`` in UTC; ``InvalidInstant`` when it has no offset."""
    return _clean_instant(value, field)
