"""The campaigns read model keeps the send plan and the next due instant, and drops both back in draft,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from application.campaigns import Campaigns
from domain.events import caused_by
from domain.send_schedule import QuietHours, Schedule, ScheduleKind
from interfaces.bootstrap import Container
from projections.campaigns import get_campaign, list_campaigns

ANN, BOB = "api_key:ann", "api_key:bob"
SOON = (datetime.now(UTC) + timedelta(days=30)).replace(hour=0, minute=0, second=0, microsecond=0)


def an_approved_campaign(container: Container) -> tuple[Campaigns, Any]:
    c = Campaigns(container.store, validate=lambda _: [])  # references are not this test's subject
    with caused_by(ANN):
        campaign = c.create("Weekly", {"subject": "Hi", "html": "<p>1</p>"})
    c.submit(campaign.id)
    with caused_by(BOB):
        c.approve(campaign.id, "approver", version=1)
    return c, campaign


def test_a_recurring_plan_and_its_first_run_are_in_the_row(container: Container) -> None:
    c, campaign = an_approved_campaign(container)
    wall = SOON.replace(tzinfo=None, hour=9)
    plan = Schedule(ScheduleKind.RECURRING, wall=wall, zone="Asia/Tokyo", rrule="FREQ=WEEKLY",
                    quiet_hours=QuietHours(*(datetime(2000, 1, 1, h).time() for h in (21, 8))))  # fmt: skip
    c.schedule(campaign.id, plan)
    container.runner.catch_up_all()

    row = get_campaign(container.db, campaign.id)

    assert row is not None and row.plan == plan.to_dict()
    assert Schedule.from_dict(row.plan) == plan
    assert row.scheduled_at is not None
    assert datetime.fromisoformat(row.scheduled_at) == SOON.replace(hour=0)  # 09:00 Tokyo is 00:00 UTC
    assert [r.plan for r in list_campaigns(container.db) if r.id == campaign.id] == [plan.to_dict()]


def test_an_instant_has_no_plan_and_back_in_draft_the_plan_is_void(container: Container) -> None:
    c, campaign = an_approved_campaign(container)
    c.schedule(campaign.id, SOON)
    container.runner.catch_up_all()
    instant = get_campaign(container.db, campaign.id)
    assert instant is not None and (instant.plan, instant.state) == (None, "scheduled")

    c.schedule(campaign.id, Schedule(ScheduleKind.LOCAL, wall=SOON.replace(tzinfo=None, hour=9), zone="UTC"))
    container.runner.catch_up_all()
    moved = get_campaign(container.db, campaign.id)
    assert moved is not None and moved.plan is not None and moved.plan["kind"] == "local"

    with caused_by(ANN):
        c.update(campaign.id, {"subject": "Hello"})
    container.runner.catch_up_all()
    draft = get_campaign(container.db, campaign.id)
    assert draft is not None and (draft.state, draft.plan, draft.scheduled_at) == ("draft", None, None)
