"""POST /api/v1/campaigns/{id}/schedule with each kind of plan, its errors, and the audience size limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from tests.interfaces import test_campaigns_http as base
from tests.interfaces.client import Api, error_of
from tests.interfaces.test_campaigns_http import act, approved, create

team = base.team  # the fixture: keys for each role and the references a campaign needs

SOON = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
WALL = SOON.replace(tzinfo=None, hour=9, minute=0, second=0).isoformat()


def _schedule(api: Api, team: dict[str, Any], **body: Any) -> Any:
    return act(api, team["editor"], approved(api, team)["id"], "schedule", **body)


def test_a_local_time_plan_starts_when_nine_first_comes_anywhere(api: Api, team: dict[str, Any]) -> None:
    response = _schedule(api, team, kind="local", wall=WALL, zone="Europe/Berlin")
    assert response.status_code == 200, response.text
    start = datetime.fromisoformat(response.json()["scheduled_at"])
    assert start == datetime.fromisoformat(WALL).replace(tzinfo=UTC) - timedelta(hours=14)


def test_a_recurring_plan_is_scheduled_for_its_first_occurrence(api: Api, team: dict[str, Any]) -> None:
    response = _schedule(api, team, kind="recurring", wall=WALL, zone="Asia/Tokyo", rrule="FREQ=WEEKLY",
                         quiet_hours={"start": "21:00:00", "end": "08:00:00"})  # fmt: skip
    assert response.status_code == 200, response.text
    first = datetime.fromisoformat(response.json()["scheduled_at"])
    assert first == datetime.fromisoformat(WALL).replace(tzinfo=UTC) - timedelta(hours=9)
    campaign = api.container.campaigns.get(UUID(response.json()["id"]))
    assert campaign.plan is not None and campaign.plan["rrule"] == "FREQ=WEEKLY"
    shown = api.client.get(f"/api/v1/campaigns/{response.json()['id']}", headers=team["editor"]).json()["plan"]
    assert shown == response.json()["plan"] == campaign.plan
    assert (shown["kind"], shown["zone"], shown["quiet_hours"]["start"]) == ("recurring", "Asia/Tokyo", "21:00:00")


def test_a_recurring_plan_may_end_at_a_utc_until(api: Api, team: dict[str, Any]) -> None:
    until = (SOON + timedelta(days=14)).strftime("%Y%m%dT%H%M%SZ")
    response = _schedule(api, team, kind="recurring", wall=WALL, zone="America/New_York",
                         rrule=f"RRULE:FREQ=WEEKLY;UNTIL={until}")  # fmt: skip
    assert response.status_code == 200, response.text
    campaign = api.container.campaigns.get(UUID(response.json()["id"]))
    assert campaign.plan is not None and campaign.plan["rrule"].endswith(until)


def test_now_schedules_at_once(api: Api, team: dict[str, Any]) -> None:
    before = datetime.now(UTC)
    response = _schedule(api, team, kind="now")
    assert response.status_code == 200, response.text
    assert datetime.fromisoformat(response.json()["scheduled_at"]) >= before - timedelta(seconds=1)


def test_bad_plans_get_422_naming_the_field(api: Api, team: dict[str, Any]) -> None:
    cases = [
        ({"kind": "recurring", "wall": WALL, "zone": "Europe/Berlin", "rrule": "FREQ=MINUTELY"}, "rrule"),
        ({"kind": "recurring", "wall": WALL, "zone": "Europe/Berlin", "rrule": "BYDAY=XX"}, "rrule"),
        ({"kind": "recurring", "wall": WALL, "zone": "Europe/Berlin", "rrule": "FREQ=HOURLY;BYMINUTE=0,30"}, "rrule"),
        ({"kind": "recurring", "wall": WALL, "zone": "UTC", "rrule": "FREQ=DAILY;COUNT=2;UNTIL=2030"}, "rrule"),
        ({"kind": "local", "wall": SOON.isoformat(), "zone": "UTC"}, "wall"),
        ({"kind": "local", "wall": WALL, "zone": "Mars/Olympus"}, "zone"),
        ({"kind": "local", "zone": "UTC"}, "wall"),
        ({"kind": "at"}, "scheduled_at"),
        ({"scheduled_at": (SOON - timedelta(days=10)).isoformat()}, "at"),
    ]
    campaign_id = approved(api, team)["id"]
    for body, field in cases:
        details = error_of(act(api, team["editor"], campaign_id, "schedule", **body), 422, _code(field))
        assert details["field"] == field, body


def _code(field: str) -> str:
    return "invalid" if field == "scheduled_at" else "invalid_schedule"


def test_scheduling_refuses_an_audience_below_the_campaign_minimum(api: Api, team: dict[str, Any]) -> None:
    campaign = create(api, team, min_audience=5)  # the team's segment holds one contact
    assert act(api, team["editor"], campaign["id"], "submit").status_code == 200
    assert act(api, team["approver"], campaign["id"], "approve", version=1).status_code == 200

    response = act(api, team["editor"], campaign["id"], "schedule", scheduled_at=SOON.isoformat())

    details = error_of(response, 422, "audience_too_small")
    assert (details["count"], details["min_audience"]) == (1, 5)
    assert api.client.get(f"/api/v1/campaigns/{campaign['id']}", headers=team["editor"]).json()["state"] == "approved"
