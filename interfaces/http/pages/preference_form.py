"""The preference center's form: what it shows, how a submission is read, and how changes are described."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_PAUSE = timedelta(days=366)
MAX_FORM_BYTES = 64 * 1024
_PERIOD_WORDS = {"day": "a day", "week": "a week", "month": "a month"}
_TIMES = {1: "one", 2: "two", 3: "three", 4: "four"}
# Frequency presets, as the contact sees them; an admin-set value outside them is shown as an extra option.
PRESETS: tuple[dict[str, Any] | None, ...] = (
    None,
    {"max": 1, "per": "day"},
    {"max": 2, "per": "week"},
    {"max": 1, "per": "week"},
    {"max": 1, "per": "month"},
    {"digest": "weekly"},
    {"digest": "monthly"},
)


@dataclass(frozen=True)
class Category:
    """A category as the page shows it."""

    key: str
    name: str
    description: str
    default_subscribed: bool


@dataclass(frozen=True)
class Choices:
    """A contact's preferences in the page's terms (categories resolved against their defaults)."""

    opted_out: bool
    subscribed: dict[str, bool]
    frequency: dict[str, Any] | None
    pause_until: date | None


@dataclass
class Submission:
    """What the contact asked for, and why it cannot be saved as it is (``errors``)."""

    choices: Choices
    errors: list[str] = field(default_factory=list)


def frequency_value(frequency: Mapping[str, Any] | None) -> str:
    """The form value of a frequency setting: ``none``, ``max:N:per`` or ``digest:name``."""
    if frequency is None:
        return "none"
    if "digest" in frequency:
        return f"digest:{frequency['digest']}"
    return f"max:{frequency['max']}:{frequency['per']}"


def frequency_of(value: str) -> dict[str, Any] | None:
    """The frequency a form value stands for; ValueError when it is none of the three forms."""
    kind, _, rest = value.partition(":")
    if value == "none":
        return None
    if kind == "digest" and rest in ("daily", "weekly", "monthly"):
        return {"digest": rest}
    count, _, per = rest.partition(":")
    if kind == "max" and count.isdigit() and 1 <= int(count) <= 1000 and per in _PERIOD_WORDS:
        return {"max": int(count), "per": per}
    raise ValueError(value)


def frequency_label(frequency: Mapping[str, Any] | None) -> str:
    """How a frequency reads on the page."""
    if frequency is None:
        return "Whenever we have something (no limit)"
    if "digest" in frequency:
        return f"One {frequency['digest']} digest"
    count = frequency["max"]
    return f"At most {_TIMES.get(count, str(count))} {_PERIOD_WORDS[frequency['per']]}"


def frequency_options(current: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The radio options, the current one checked (added when it is not a preset)."""
    options = list(PRESETS) if current in PRESETS else [*PRESETS, dict(current or {})]
    return [
        {"value": frequency_value(f), "label": frequency_label(f), "checked": f == current, "id": f"frequency-{i}"}
        for i, f in enumerate(options)
    ]


def zone_of(name: str | None) -> ZoneInfo:
    """The contact's time zone, UTC when unknown: a pause ends at midnight where the contact is."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def pause_instant(day: date | None, zone: ZoneInfo) -> datetime | None:
    """The instant a pause ending on ``day`` ends: the start of that day in the contact's zone."""
    return None if day is None else datetime.combine(day, time(0), zone).astimezone(UTC)


def pause_day(until: datetime | None, zone: ZoneInfo, now: datetime) -> date | None:
    """The day an active pause ends on, as the contact reads it (None when there is no pause or it is over)."""
    if until is None or until <= now:
        return None
    return until.astimezone(zone).date()


def read_submission(body: bytes, categories: Sequence[Category], current: Choices, today: date) -> Submission:
    """The submitted choices; categories the page did not show (``shown``) keep their current value."""
    form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    known = {c.key for c in categories}
    shown = set(form.get("shown", [])) & known
    checked = set(form.get("category", []))
    subscribed = {**current.subscribed, **{key: key in checked for key in shown}}
    errors: list[str] = []
    frequency = current.frequency
    try:
        frequency = frequency_of(form.get("frequency", [frequency_value(current.frequency)])[0])
    except ValueError:
        errors.append("Choose how often we may write to you from the list.")
    pause = _pause_of(form.get("paused_until", [""])[0].strip(), today, errors)
    opted_out = form.get("opted_out", [""])[0] == "yes"
    return Submission(Choices(opted_out, subscribed, frequency, pause), errors)


def _pause_of(text: str, today: date, errors: list[str]) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors.append("Write the pause's end date as year-month-day, for example 2027-01-31.")
        return None
    if day <= today:
        errors.append("The pause must end on a day after today.")
    elif day > today + MAX_PAUSE:
        errors.append("A pause can last up to a year.")
    return day


def describe_changes(before: Choices, after: Choices, categories: Sequence[Category]) -> list[str]:
    """Sentences for what changed between two sets of choices, in the order the page shows them."""
    changes = []
    for c in categories:
        if before.subscribed.get(c.key) != after.subscribed.get(c.key):
            verb = "You will receive" if after.subscribed.get(c.key) else "You will no longer receive"
            changes.append(f"{verb} {c.name}.")
    if before.frequency != after.frequency:
        changes.append(f"How often we write: {frequency_label(after.frequency).lower()}.")
    if before.pause_until != after.pause_until:
        changes.append(
            f"Email is paused until {long_date(after.pause_until)}." if after.pause_until else "Your pause has ended."
        )
    if before.opted_out != after.opted_out:
        changes.append(
            "You are unsubscribed from all marketing email."
            if after.opted_out
            else "You are subscribed to marketing email again."
        )
    return changes


def long_date(day: date) -> str:
    """A date as people write it (1 February 2027)."""
    return f"{day.day} {day.strftime('%B %Y')}"
