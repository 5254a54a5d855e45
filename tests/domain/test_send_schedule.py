"""Send schedules: wall-clock times per zone across DST, recurrences, quiet hours, validation."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.errors import Invalid
from domain.send_schedule import (
    MAX_OCCURRENCES,
    QuietHours,
    Schedule,
    ScheduleKind,
    after_quiet_hours,
    clean_schedule,
    due_at,
    occurrences,
    run_start,
    run_window,
    wall_clock,
    zone_of,
)

NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
K = ScheduleKind


def local(wall: datetime, zone: str = "UTC", quiet: QuietHours | None = None) -> Schedule:
    return Schedule(K.LOCAL, wall=wall, zone=zone, quiet_hours=quiet)


def test_nine_local_reaches_tokyo_berlin_and_new_york_at_their_nine() -> None:
    plan = clean_schedule(local(datetime(2026, 11, 2, 9, 0), "UTC"), NOW)
    start = run_start(plan)

    due = {z: due_at(plan, start, z) for z in ("Asia/Tokyo", "Europe/Berlin", "America/New_York")}

    assert due == {
        "Asia/Tokyo": datetime(2026, 11, 2, 0, 0, tzinfo=UTC),
        "Europe/Berlin": datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        "America/New_York": datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
    }
    assert all(d.astimezone(ZoneInfo(z)).time() == time(9) for z, d in due.items())
    assert start <= min(due.values())


def test_contacts_without_a_zone_use_the_schedule_default() -> None:
    plan = local(datetime(2026, 11, 2, 9, 0), "Europe/Berlin")
    assert due_at(plan, run_start(plan), None) == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    assert due_at(plan, run_start(plan), "Not/AZone") == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def test_a_weekly_monday_nine_in_berlin_keeps_nine_across_both_dst_changes() -> None:
    plan = clean_schedule(Schedule(K.RECURRING, wall=datetime(2026, 10, 19, 9, 0), zone="Europe/Berlin",
                                   rrule="FREQ=WEEKLY;BYDAY=MO"), NOW)  # fmt: skip
    runs = occurrences(plan, NOW, 30)

    berlin = ZoneInfo("Europe/Berlin")
    assert all(r.astimezone(berlin).time() == time(9) and r.astimezone(berlin).weekday() == 0 for r in runs)
    # Summer time (UTC+2) ends on 25 Oct 2026 and starts again on 28 Mar 2027.
    hours = {r.date(): r.hour for r in runs}
    assert hours[date(2026, 10, 19)] == 7
    assert hours[date(2026, 10, 26)] == 8
    assert hours[date(2027, 3, 22)] == 8
    assert hours[date(2027, 3, 29)] == 7
    assert runs == sorted(runs) and len(set(runs)) == len(runs) == 30


def test_a_skipped_wall_time_moves_forward_by_the_gap_and_a_repeated_one_is_the_first() -> None:
    new_york = ZoneInfo("America/New_York")
    skipped = wall_clock(datetime(2027, 3, 14, 2, 30), new_york)  # clocks jump 02:00 -> 03:00
    repeated = wall_clock(datetime(2026, 11, 1, 1, 30), new_york)  # clocks fall back 02:00 -> 01:00
    assert skipped.astimezone(new_york).replace(tzinfo=None) == datetime(2027, 3, 14, 3, 30)
    assert skipped == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)
    assert repeated == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, the first of the two


def test_a_daily_rule_through_a_spring_forward_gap_stays_in_order() -> None:
    plan = Schedule(K.RECURRING, wall=datetime(2027, 3, 12, 2, 30), zone="America/New_York", rrule="FREQ=DAILY")
    runs = occurrences(plan, datetime(2027, 3, 11, tzinfo=UTC), 5)
    local = [r.astimezone(ZoneInfo("America/New_York")).strftime("%d %H:%M") for r in runs]
    assert local == ["12 02:30", "13 02:30", "14 03:30", "15 02:30", "16 02:30"]


def test_quiet_hours_move_a_message_to_their_end_in_the_recipient_zone() -> None:
    quiet = QuietHours(time(21), time(8))
    berlin = ZoneInfo("Europe/Berlin")
    late = datetime(2026, 11, 2, 22, 0, tzinfo=berlin).astimezone(UTC)
    early = datetime(2026, 11, 3, 6, 0, tzinfo=berlin).astimezone(UTC)
    noon = datetime(2026, 11, 3, 12, 0, tzinfo=berlin).astimezone(UTC)

    assert after_quiet_hours(late, quiet, berlin) == datetime(2026, 11, 3, 8, 0, tzinfo=berlin)
    assert after_quiet_hours(early, quiet, berlin) == datetime(2026, 11, 3, 8, 0, tzinfo=berlin)
    assert after_quiet_hours(noon, quiet, berlin) == noon


@pytest.mark.parametrize(
    ("plan", "field"),
    [
        (Schedule(K.AT, at=datetime(2026, 1, 1)), "scheduled_at"),
        (Schedule(K.AT, at=NOW - timedelta(days=1)), "at"),
        (Schedule(K.LOCAL, wall=datetime(2026, 11, 2, 9), zone="Mars/Olympus"), "zone"),
        (Schedule(K.LOCAL, wall=datetime(2026, 9, 1, 9), zone="UTC"), "wall"),
        (Schedule(K.RECURRING, wall=datetime(2026, 11, 2, 9), zone="UTC", rrule="FREQ=MINUTELY"), "rrule"),
        (Schedule(K.RECURRING, wall=datetime(2026, 11, 2, 9), zone="UTC", rrule="FREQ=WEEKLY;BYDAY=XX"), "rrule"),
        (Schedule(K.RECURRING, wall=datetime(2026, 11, 2, 9), zone="UTC", rrule="FREQ=DAILY;COUNT=1;UNTIL=x"), "rrule"),
        (Schedule(K.RECURRING, wall=datetime(2020, 1, 1, 9), zone="UTC", rrule="FREQ=DAILY;COUNT=2"), "rrule"),
        (Schedule(K.AT, at=NOW + timedelta(hours=1), rrule="FREQ=DAILY"), "rrule"),
    ],
)
def test_unusable_schedules_are_refused_naming_the_field(plan: Schedule, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        clean_schedule(plan, NOW)
    assert refused.value.details["field"] == field


def test_the_run_window_spans_the_zones_present_and_defaults_missing_ones() -> None:
    plan = local(datetime(2026, 11, 2, 9, 0), "Europe/Berlin")
    start = run_start(plan)

    window = run_window(plan, start, ["America/New_York", "Asia/Tokyo", None, "Asia/Tokyo"])

    assert window == (datetime(2026, 11, 2, 0, 0, tzinfo=UTC), datetime(2026, 11, 2, 14, 0, tzinfo=UTC))
    assert run_window(plan, start, [None]) == (datetime(2026, 11, 2, 8, 0, tzinfo=UTC),) * 2
    assert run_window(plan, start, []) == (start, start)


def test_an_instant_or_recurring_run_is_due_at_its_occurrence_unless_quiet() -> None:
    at = Schedule(K.AT, at=datetime(2026, 11, 2, 23, 0, tzinfo=UTC), quiet_hours=QuietHours(time(21), time(8)))
    [run] = occurrences(at, NOW)
    # 23:00 UTC is 08:00 in Tokyo (not quiet) and 00:00 in Berlin (quiet until 08:00 Berlin, 07:00 UTC).
    assert due_at(at, run, "Asia/Tokyo") == run
    assert due_at(at, run, "Europe/Berlin") == datetime(2026, 11, 3, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MINUTELY",
        "FREQ=SECONDLY",
        "FREQ=HOURLY;BYMINUTE=0,30",  # an hourly rule that fires twice an hour
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0,30",
        "FREQ=HOURLY;INTERVAL=0",
        "FREQ=DAILY;BYSETPOS=1",
        "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30",  # never: refused without walking hourly to 9999
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",  # 29 February on a Monday: not within ten years
        "DTSTART:20261102T090000\nRRULE:FREQ=DAILY",
        "RDATE:20261102T090000",
        "FREQ=DAILY;UNTIL=20261001T000000Z",  # before the start
        "FREQ=DAILY;UNTIL=2027-01-01T00:00:00Z",
    ],
)
def test_too_frequent_empty_or_malformed_rules_are_refused(rule: str) -> None:
    plan = Schedule(K.RECURRING, wall=datetime(2026, 11, 2, 9), zone="UTC", rrule=rule)
    with pytest.raises(Invalid) as refused:
        clean_schedule(plan, NOW)
    assert refused.value.details["field"] == "rrule"


@pytest.mark.parametrize(
    "rule",
    ["FREQ=HOURLY", "FREQ=DAILY;BYHOUR=9,17", "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
     "FREQ=WEEKLY;BYDAY=MO;UNTIL=20271231T000000", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"],
)  # fmt: skip
def test_hourly_or_rarer_rules_are_accepted(rule: str) -> None:
    plan = Schedule(K.RECURRING, wall=datetime(2026, 11, 2, 9), zone="UTC", rrule=rule)
    assert occurrences(clean_schedule(plan, NOW), NOW, 3)


def test_until_in_utc_ends_the_rule_at_that_instant() -> None:
    # RFC 5545: with a zoned start, UNTIL is UTC. 08:00 UTC on 9 Nov is 09:00 in Berlin: that run is the last.
    plan = Schedule(K.RECURRING, wall=datetime(2026, 11, 2, 9), zone="Europe/Berlin",
                    rrule="FREQ=DAILY;UNTIL=20261109T080000Z")  # fmt: skip
    runs = occurrences(clean_schedule(plan, NOW), NOW, 100)
    assert (len(runs), runs[-1]) == (8, datetime(2026, 11, 9, 8, 0, tzinfo=UTC))


def test_a_recurrence_cannot_start_more_than_ten_years_back() -> None:
    plan = Schedule(K.RECURRING, wall=datetime(2015, 1, 5, 9), zone="UTC", rrule="FREQ=WEEKLY")
    with pytest.raises(Invalid) as refused:
        clean_schedule(plan, NOW)
    assert refused.value.details["field"] == "wall"


def test_the_number_of_listed_occurrences_is_capped() -> None:
    plan = Schedule(K.RECURRING, wall=datetime(2026, 11, 2, 9), zone="UTC", rrule="FREQ=HOURLY")
    assert len(occurrences(plan, NOW, 10_000)) == MAX_OCCURRENCES


def test_a_plan_round_trips_through_its_recorded_form() -> None:
    plan = Schedule(K.RECURRING, wall=datetime(2026, 11, 2, 9), zone="Asia/Tokyo", rrule="FREQ=WEEKLY",
                    quiet_hours=QuietHours(time(22), time(7)))  # fmt: skip
    assert Schedule.from_dict(plan.to_dict()) == plan


walls = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2035, 12, 31))


@settings(max_examples=200)
@given(walls, st.sampled_from(ZONES))
def test_local_sends_have_the_requested_wall_clock_or_the_gap_shift(wall: datetime, zone: str) -> None:
    wall = wall.replace(second=0, microsecond=0)
    plan = local(wall)
    due = due_at(plan, run_start(plan), zone).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    # Equal, or moved forward by a skipped stretch (DST gaps in use are at most 2 hours).
    assert wall <= due <= wall + timedelta(hours=2)
    assert run_start(plan) <= due_at(plan, run_start(plan), zone)


@settings(max_examples=60)
@given(walls, st.sampled_from(ZONES), st.sampled_from(["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=MONTHLY"]))
def test_recurrences_are_strictly_increasing_and_keep_their_wall_time(wall: datetime, zone: str, rule: str) -> None:
    wall = wall.replace(second=0, microsecond=0)
    plan = Schedule(K.RECURRING, wall=wall, zone=zone, rrule=rule)
    runs = occurrences(plan, wall.replace(tzinfo=UTC) - timedelta(days=2), 12)
    assert runs == sorted(set(runs))
    for r in runs:
        shown = r.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        assert timedelta(0) <= shown - shown.replace(hour=wall.hour, minute=wall.minute) <= timedelta(hours=2)


@given(st.datetimes(timezones=st.just(UTC)), st.times(), st.times(), st.sampled_from(ZONES[:50]))
def test_quiet_hours_never_leave_a_message_inside_them_nor_earlier(
    due: datetime, start: time, end: time, zone: str
) -> None:
    quiet = QuietHours(start, end)
    try:
        moved = after_quiet_hours(due, quiet, ZoneInfo(zone))
    except OverflowError:
        return  # the edge of datetime's range
    assert moved >= due
    assert not quiet.contains(moved.astimezone(ZoneInfo(zone)).time().replace(tzinfo=None))


@given(st.text(max_size=200), st.sampled_from(list(K)))
def test_validation_never_crashes_on_arbitrary_rule_text(text: str, kind: ScheduleKind) -> None:
    plan = Schedule(kind, at=NOW + timedelta(days=1), wall=datetime(2026, 12, 1, 9), zone="UTC", rrule=text or None)
    try:
        clean_schedule(plan, NOW)
    except Invalid as exc:
        assert exc.details.get("field")


@given(st.text(max_size=100))
def test_zone_lookup_never_crashes_on_arbitrary_text(name: str) -> None:
    try:
        assert str(zone_of(name)) == name
    except Invalid as exc:
        assert exc.details["field"] == "zone"


rule_parts = st.lists(
    st.sampled_from(["FREQ=YEARLY", "FREQ=MONTHLY", "FREQ=WEEKLY", "FREQ=DAILY", "FREQ=HOURLY", "FREQ=MINUTELY",
                     "INTERVAL=2", "INTERVAL=0", "COUNT=3", "COUNT=0", "UNTIL=20300101T000000", "UNTIL=2030",
                     "BYDAY=MO,FR", "BYDAY=-1SU", "BYDAY=9XX", "BYMONTHDAY=31", "BYMONTHDAY=-1", "BYMONTHDAY=0",
                     "BYMONTH=2", "BYMONTH=13", "BYHOUR=9,17", "BYHOUR=25", "BYMINUTE=0,30", "BYSETPOS=-1",
                     "BYWEEKNO=53", "BYYEARDAY=366", "WKST=SU", "FOO=1", "", "="]),
    max_size=5,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(rule_parts)
@example(["FREQ=YEARLY", "BYDAY=-1SU", "BYMONTH=13"])  # dateutil parsed it, then crashed while iterating
def test_rules_from_real_parts_are_accepted_hourly_or_rarer_or_refused_naming_rrule(parts: list[str]) -> None:
    plan = Schedule(K.RECURRING, wall=datetime(2026, 11, 2, 9), zone="Europe/Berlin", rrule=";".join(parts))
    try:
        clean_schedule(plan, NOW)
    except Invalid as exc:
        assert exc.details["field"] == "rrule"
        return
    runs = occurrences(plan, NOW, 6)
    assert runs and all(b - a >= timedelta(hours=1) for a, b in itertools.pairwise(runs))
