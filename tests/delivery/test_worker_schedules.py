"""Schedules end to end through the worker: each recipient's local 09:00, weekly runs across a DST change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.campaign_workflow import State
from domain.delivery_run import run_id
from domain.send_schedule import Schedule, ScheduleKind, run_start
from interfaces.bootstrap import Container
from interfaces.delivery.worker import DeliveryWorker
from interfaces.transports.capture import list_captured
from tests.delivery.scenario import every_contact, scheduled_campaign

ZONES = {
    "kenji@example.org": "Asia/Tokyo",
    "greta@example.org": "Europe/Berlin",
    "nora@example.org": "America/New_York",
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _sent_to(container: Container, campaign_id: object) -> set[str]:
    return {c.to for c in list_captured(container.db, campaign_id)}  # type: ignore[arg-type]


def test_nine_local_time_reaches_tokyo_berlin_and_new_york_each_at_their_nine(live: Container) -> None:
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    plan = Schedule(ScheduleKind.LOCAL, wall=datetime.combine(day, time(9)), zone="UTC")
    scenario = scheduled_campaign(live, list(ZONES), datetime.now(UTC), zones=ZONES, plan=plan)
    clock = Clock(run_start(plan) - timedelta(minutes=1))
    worker = DeliveryWorker(live, every_contact, clock=clock)

    asyncio.run(worker.drain())
    assert live.campaigns.get(scenario.campaign_id).state is State.SCHEDULED  # not yet 09:00 anywhere

    seen = []
    for email, zone in sorted(ZONES.items(), key=lambda kv: datetime.combine(day, time(9), ZoneInfo(kv[1]))):
        nine = datetime.combine(day, time(9), ZoneInfo(zone)).astimezone(UTC)
        clock.now = nine - timedelta(seconds=1)
        asyncio.run(worker.drain())
        assert _sent_to(live, scenario.campaign_id) == set(seen), f"{email} went out before 09:00 {zone}"
        clock.now = nine
        asyncio.run(worker.drain())
        seen.append(email)
        assert _sent_to(live, scenario.campaign_id) == set(seen)

    assert live.campaigns.get(scenario.campaign_id).state is State.SENT


def test_a_weekly_campaign_runs_each_monday_at_nine_berlin_across_the_dst_change(live: Container) -> None:
    # Mondays 09:00 Europe/Berlin from 19 Oct 2026: summer time ends on 25 Oct, so 07:00 then 08:00 UTC.
    plan = Schedule(ScheduleKind.RECURRING, wall=datetime(2026, 10, 19, 9), zone="Europe/Berlin",
                    rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=2")  # fmt: skip
    emails = ["greta@example.org"]
    live_now = datetime.now(UTC)
    if live_now > datetime(2026, 10, 19, 7, tzinfo=UTC):
        plan = Schedule(ScheduleKind.RECURRING, wall=_next_monday_before_a_change(live_now), zone="Europe/Berlin",
                        rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=2")  # fmt: skip
    scenario = scheduled_campaign(live, emails, live_now, zones={"greta@example.org": "Europe/Berlin"}, plan=plan)
    first = live.campaigns.get(scenario.campaign_id).scheduled_at
    assert first is not None
    clock = Clock(first)
    worker = DeliveryWorker(live, every_contact, clock=clock)

    asyncio.run(worker.drain())
    campaign = live.campaigns.get(scenario.campaign_id)
    assert campaign.state is State.SCHEDULED and campaign.scheduled_at is not None
    second = campaign.scheduled_at
    berlin = ZoneInfo("Europe/Berlin")
    assert second - first == timedelta(days=7, hours=1)  # one hour more: the clocks went back in between
    assert first.astimezone(berlin).time() == second.astimezone(berlin).time() == time(9)

    clock.now = second
    asyncio.run(worker.drain())

    captured = list_captured(live.db, scenario.campaign_id)
    assert len(captured) == 2  # one message per run
    assert {c.run_id for c in captured} == {run_id(scenario.campaign_id, first), run_id(scenario.campaign_id, second)}
    assert live.campaigns.get(scenario.campaign_id).state is State.SENT  # COUNT=2: no third run


def _next_monday_before_a_change(now: datetime) -> datetime:
    """A Monday 09:00 in the week before the next end of summer time in Berlin (last Sunday of October)."""
    year = now.year if now < datetime(now.year, 10, 1, tzinfo=UTC) else now.year + 1
    last_sunday = max(datetime(year, 10, d) for d in range(25, 32) if datetime(year, 10, d).weekday() == 6)
    return (last_sunday - timedelta(days=6)).replace(hour=9)
