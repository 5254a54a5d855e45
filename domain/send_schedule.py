"""When a campaign's messages are due: now, at an instant, at a wall-clock time in each recipient's zone,
or recurring by an RFC 5545 RRULE in a named zone; optionally outside quiet hours.

Wall-clock times are resolved in a zone the way people expect across daylight-saving changes:
- a time the clocks skip (02:30 on a spring-forward night) is moved forward by the gap (03:30);
- a time the clocks pass twice (01:30 on a fall-back night) is the first of the two.
A recurrence keeps its wall-clock time: "Mondays 09:00 Europe/Berlin" is 08:00 UTC in summer and 07:00
UTC in winter. Recurrences more frequent than hourly are refused (every occurrence is a run with its own
audience snapshot): ``FREQ`` may be at most ``HOURLY`` and ``BYMINUTE``/``BYSECOND`` hold at most one value.
``UNTIL`` is a UTC instant (``...Z``, as RFC 5545 asks when the start has a zone) or a wall-clock time in the
zone; ``COUNT`` and ``UNTIL`` together are refused.
A recurrence's start (``wall``) may lie at most ten years back, and it must have an occurrence within ten
years: dateutil walks a rule from its start, so both bound the work one rule can cost.

A ``local`` schedule sends at the same wall-clock time in each recipient's zone (``zone`` is the default for
contacts without one). Its run starts when that time first comes anywhere (UTC+14); each message is due
at its recipient's own instant. A zone whose instant has already passed when the run starts is sent at
once: scheduling at least a day ahead reaches everyone on time.

Quiet hours (``start`` to ``end`` local, may wrap midnight) move a message due inside them to their end, in
the recipient's zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import DAILY, HOURLY, YEARLY, rrule, rrulestr

from domain.errors import Invalid
from domain.preference_sources import clean_instant

MAX_OCCURRENCES = 1_000
# How far back a recurrence may start and how far ahead its next occurrence must be (see the module doc).
RULE_HORIZON = timedelta(days=3653)
# The longest IANA zone name is about 30 characters; a longer one is not looked up at all.
MAX_ZONE_NAME = 64
# The earliest wall clock on Earth (Line Islands, UTC+14): a local-time run starts when its time comes there.
EARLIEST_OFFSET = timedelta(hours=14)


class InvalidSchedule(Invalid):
    """The schedule cannot be followed: a naive or past instant, an unknown zone, a bad or too-frequent rule."""

    code = "invalid_schedule"


class ScheduleKind(StrEnum):
    """How the send time is given."""

    NOW = "now"
    AT = "at"
    LOCAL = "local"
    RECURRING = "recurring"


@dataclass(frozen=True)
class QuietHours:
    """A daily local window in which no message is due (``start`` > ``end`` wraps midnight)."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        """Whether a local time of day falls inside the window."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class Schedule:
    """A campaign's send plan; ``wall`` is a naive local date and time (``local`` and ``recurring``)."""

    kind: ScheduleKind
    at: datetime | None = None
    wall: datetime | None = None
    zone: str | None = None
    rrule: str | None = None
    quiet_hours: QuietHours | None = None

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain JSON values (as the ``Scheduled`` event records it)."""
        return {
            "kind": self.kind.value,
            "at": self.at.isoformat() if self.at else None,
            "wall": self.wall.isoformat() if self.wall else None,
            "zone": self.zone,
            "rrule": self.rrule,
            "quiet_hours": (
                {"start": self.quiet_hours.start.isoformat(), "end": self.quiet_hours.end.isoformat()}
                if self.quiet_hours
                else None
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schedule:
        """The plan ``to_dict`` wrote."""
        quiet = data.get("quiet_hours")
        return cls(
            kind=ScheduleKind(data["kind"]),
            at=datetime.fromisoformat(data["at"]) if data.get("at") else None,
            wall=datetime.fromisoformat(data["wall"]) if data.get("wall") else None,
            zone=data.get("zone"),
            rrule=data.get("rrule"),
            quiet_hours=QuietHours(time.fromisoformat(quiet["start"]), time.fromisoformat(quiet["end"]))
            if quiet
            else None,
        )


def zone_of(name: str | None, field: str = "zone") -> ZoneInfo:
    """The IANA zone ``name``, or ``InvalidSchedule`` naming the field."""
    if not name:
        raise InvalidSchedule(f"{field} is required", field=field)
    try:
        if len(name) > MAX_ZONE_NAME:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise InvalidSchedule(f"{field}: unknown time zone {name[:64]!r}", field=field) from None


def wall_clock(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``wall`` in ``zone`` (skipped times move forward, repeated ones: first)."""
    # fold=0 reads a skipped time with the offset from before the change, which lands after the gap by
    # exactly its length, and picks the first of two repeated times.
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _rule(schedule: Schedule) -> rrule:
    assert schedule.wall is not None and schedule.rrule is not None
    text = schedule.rrule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text or "DTSTART" in text.upper():
        raise InvalidSchedule("rrule is one RRULE line (give the start as wall and zone)", field="rrule")
    keys = {part.split("=", 1)[0].strip().upper() for part in text.split(";")}
    if {"COUNT", "UNTIL"} <= keys:
        raise InvalidSchedule("rrule: COUNT and UNTIL cannot both be given (RFC 5545)", field="rrule")
    text = ";".join(_local_until(part, schedule.zone) for part in text.split(";"))
    try:
        rule = rrulestr(text, dtstart=schedule.wall.replace(tzinfo=None))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise InvalidSchedule(f"rrule: {str(exc)[:200] or 'cannot be parsed'}", field="rrule") from None
    if not isinstance(rule, rrule):
        raise InvalidSchedule("rrule is one rule", field="rrule")
    # dateutil exposes the parsed parts only as private attributes.
    if rule._freq > HOURLY or len(rule._byminute or ()) > 1 or len(rule._bysecond or ()) > 1:  # noqa: SLF001
        raise InvalidSchedule("recurrences may be at most hourly", field="rrule")
    if rule._bysetpos and rule._freq >= DAILY:  # noqa: SLF001
        raise InvalidSchedule("rrule: BYSETPOS is for yearly, monthly and weekly rules", field="rrule")
    # dateutil accepts BYHOUR=25 or BYMONTH=13 and then fails while iterating.
    for part, low, top in (("hour", 0, 23), ("minute", 0, 59), ("second", 0, 59), ("month", 1, 12)):
        if any(not low <= v <= top for v in getattr(rule, f"_by{part}") or ()):
            raise InvalidSchedule(f"rrule: BY{part.upper()} values are {low} to {top}", field="rrule")
    if rule._interval < 1:  # noqa: SLF001
        raise InvalidSchedule("rrule: INTERVAL must be a positive integer", field="rrule")
    return rule


def _local_until(part: str, zone: str | None) -> str:
    """An ``UNTIL=...Z`` part as the zone's wall clock: RFC 5545 wants UNTIL in UTC when DTSTART has a zone,
    and the rule is walked in naive wall-clock time."""
    key, _, value = part.partition("=")
    if key.strip().upper() != "UNTIL" or not value.strip().upper().endswith("Z"):
        return part
    try:
        until = datetime.strptime(value.strip().upper(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        local = until.astimezone(zone_of(zone)).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise InvalidSchedule(f"rrule: UNTIL {value[:40]!r} is not YYYYMMDDTHHMMSSZ", field="rrule") from None
    return f"UNTIL={local:%Y%m%dT%H%M%S}"


def clean_schedule(schedule: Schedule, now: datetime) -> Schedule:
    """``schedule`` checked against ``now``, or ``InvalidSchedule`` naming the field."""
    kind = schedule.kind
    if kind is ScheduleKind.AT:
        if schedule.at is None:
            raise InvalidSchedule("at is required", field="at")
        clean_instant(schedule.at, "scheduled_at")  # no offset: the same error as every other instant
        if schedule.at < now - timedelta(minutes=1):
            raise InvalidSchedule("at is in the past", field="at", at=schedule.at.isoformat())
    if kind in (ScheduleKind.LOCAL, ScheduleKind.RECURRING):
        if schedule.wall is None:
            raise InvalidSchedule("wall (a local date and time) is required", field="wall")
        if schedule.wall.tzinfo is not None:
            raise InvalidSchedule("wall is a local date and time without an offset", field="wall")
        zone_of(schedule.zone)
    if kind is ScheduleKind.LOCAL and schedule.wall is not None:
        last = wall_clock(schedule.wall, ZoneInfo("Etc/GMT+12"))  # the latest clock on Earth (UTC-12)
        if last < now:
            raise InvalidSchedule("that local time has passed everywhere", field="wall")
    if kind is ScheduleKind.RECURRING:
        _clean_recurrence(schedule, now)
    elif schedule.rrule:
        raise InvalidSchedule("rrule is only for recurring schedules", field="rrule")
    return schedule


def _clean_recurrence(schedule: Schedule, now: datetime) -> None:
    if not schedule.rrule:
        raise InvalidSchedule("rrule is required", field="rrule")
    rule = _rule(schedule)
    assert schedule.wall is not None
    # Naive UTC against a naive local start: hours off at most, nothing next to ten years.
    today = now.astimezone(UTC).replace(tzinfo=None)
    if schedule.wall < today - RULE_HORIZON:
        raise InvalidSchedule("wall may be at most ten years in the past", field="wall")
    horizon = max(schedule.wall, today) + RULE_HORIZON
    # dateutil walks a rule that never matches (30 February, hourly) period by period to the year 9999:
    # seconds of work. A yearly probe with the same day parts finds the first matching day cheaply.
    probe = rule.replace(freq=YEARLY, interval=1, count=None, until=None, bysetpos=None, byhour=None,
                         byminute=None, bysecond=None)  # fmt: skip
    try:
        first_day = probe.after(today - timedelta(days=2))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        # Any other value dateutil parses but cannot walk: refused here, never a 500 later.
        raise InvalidSchedule("rrule cannot be followed", field="rrule") from None
    if first_day is None or first_day > horizon:
        raise InvalidSchedule("the rule has no occurrence within ten years", field="rrule")
    if not occurrences(schedule, now, 1):
        raise InvalidSchedule("the rule has no occurrence after now", field="rrule")


def occurrences(schedule: Schedule, after: datetime, limit: int = 1) -> list[datetime]:
    """The next ``limit`` run instants strictly after ``after`` (recurring), or the one run (others: its
    instant even when it is a moment past, as a send scheduled for "now" is by the time it is saved)."""
    if schedule.kind is ScheduleKind.NOW:
        return [after]
    if schedule.kind is ScheduleKind.AT:
        assert schedule.at is not None
        return [schedule.at.astimezone(UTC)]
    if schedule.kind is ScheduleKind.LOCAL:
        return [run_start(schedule)]
    zone = zone_of(schedule.zone)
    rule = _rule(schedule)
    found: list[datetime] = []
    # Iterate wall-clock occurrences from a little before ``after`` in local time (offsets differ by < 1 day).
    cursor = after.astimezone(zone).replace(tzinfo=None) - timedelta(days=2)
    try:
        for wall in rule.xafter(cursor, count=MAX_OCCURRENCES * 4, inc=True):
            instant = wall_clock(wall, zone)
            if instant > after and (not found or instant > found[-1]):
                found.append(instant)
                if len(found) >= min(limit, MAX_OCCURRENCES):
                    break
    except (ValueError, TypeError, OverflowError):
        # A rule dateutil parsed but cannot walk, or one running into the year 9999: no (further) runs.
        if not found:
            raise InvalidSchedule("rrule cannot be followed", field="rrule") from None
    return found


def run_start(schedule: Schedule) -> datetime:
    """When a ``local`` run starts: its wall-clock time in the earliest zone on Earth."""
    assert schedule.wall is not None
    return (schedule.wall - EARLIEST_OFFSET).replace(tzinfo=UTC)


def run_window(schedule: Schedule, occurrence: datetime, zones: Iterable[str | None]) -> tuple[datetime, datetime]:
    """The earliest and latest instants the run at ``occurrence`` has messages due, over the recipients' zones
    (``None`` or an unknown name: the schedule's default zone); with no zones, the occurrence alone."""
    due = [due_at(schedule, occurrence, zone) for zone in set(zones)] or [occurrence.astimezone(UTC)]
    return min(due), max(due)


def due_at(schedule: Schedule, occurrence: datetime, recipient_zone: str | None) -> datetime:
    """The instant a recipient's message of the run at ``occurrence`` is due (UTC)."""
    zone = _zone_or_default(recipient_zone, schedule.zone)
    if schedule.kind is ScheduleKind.LOCAL:
        assert schedule.wall is not None
        due = max(wall_clock(schedule.wall, zone), occurrence)
    else:
        due = occurrence.astimezone(UTC)
    return after_quiet_hours(due, schedule.quiet_hours, zone)


def after_quiet_hours(due: datetime, quiet: QuietHours | None, zone: ZoneInfo) -> datetime:
    """``due``, or the end of the quiet window it falls in (in ``zone``)."""
    if quiet is None:
        return due
    local = due.astimezone(zone)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return due
    end_day = local.date()
    if quiet.start > quiet.end and local.time().replace(tzinfo=None) >= quiet.start:
        end_day += timedelta(days=1)
    return max(due, wall_clock(datetime.combine(end_day, quiet.end), zone))


def _zone_or_default(recipient_zone: str | None, default: str | None) -> ZoneInfo:
    for name in (recipient_zone, default):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    return ZoneInfo("UTC")
