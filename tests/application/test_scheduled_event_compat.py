"""A ``Scheduled`` event stored before schedules had plans (only ``scheduled_at``) still replays."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from application.mapper import MsgspecMapper
from domain.campaign import Campaign
from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from domain.campaign_workflow import State
from domain.events import caused_by
from domain.send_schedule import Schedule, ScheduleKind
from tests.domain.scenarios import replay

mapper = MsgspecMapper()
LATER = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
SETTINGS = CampaignSettings(category="news", esp_connection_id=uuid4(), from_address="news@example.com",
                            include_segments=(UUID("3f4a9d3e-8a55-4c2b-9f1e-2a7b6c5d4e01"),))  # fmt: skip


def scheduled_campaign_events(plan: dict[str, object] | None) -> list[StoredEvent]:
    with caused_by("api_key:ann"):
        campaign = Campaign.create(uuid4(), "Spring sale", SETTINGS, Content(subject="Hi", html="<p>Hi</p>"))
        campaign.submit([])
    with caused_by("api_key:bob"):
        campaign.approve("approver")
        campaign.schedule(LATER, "go", plan)
    return [mapper.to_stored_event(e) for e in campaign.collect_events()]


def test_an_old_scheduled_event_without_a_plan_replays_as_one_run_at_its_instant() -> None:
    stored = scheduled_campaign_events(None)
    old = json.loads(stored[-1].state)
    assert (old.pop("class_version"), old.pop("plan")) == (2, None)  # now: as written before plans existed
    stored[-1] = StoredEvent(stored[-1].originator_id, stored[-1].originator_version, stored[-1].topic,
                             json.dumps(old).encode())  # fmt: skip

    campaign = replay(mapper.to_domain_event(s) for s in stored)

    assert (campaign.state, campaign.scheduled_at, campaign.plan) == (State.SCHEDULED, LATER, None)


def test_a_scheduled_event_keeps_its_plan_through_storage() -> None:
    plan = Schedule(ScheduleKind.LOCAL, wall=datetime(2030, 1, 1, 9, 0), zone="Europe/Berlin").to_dict()

    campaign = replay(mapper.to_domain_event(s) for s in scheduled_campaign_events(plan))

    assert campaign.plan == plan
    assert Schedule.from_dict(campaign.plan).zone == "Europe/Berlin"
