"""The audience and recipients endpoints: counts per rule, estimates, size bounds (global and per campaign),
paging with opaque cursors, the q filter, the 400/404 answers and who may read; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.contacts import ContactInput
from domain.audience_size import AudienceTooSmall, check_audience_size
from interfaces.bootstrap import build
from interfaces.config import Settings
from interfaces.http.campaign_audience import audience_of
from tests.interfaces.client import Api, bearer, error_of, service

CAMPAIGNS = "/api/v1/campaigns"


def populate(api: Api) -> dict[str, Any]:
    """Five contacts tagged ``a`` (one suppressed, one opted out), a segment of them, a campaign to it."""
    c = api.container
    c.preferences.define_category("news", "News")
    ids = {}
    for name in ("ann", "bob", "cy_1", "dee", "eve"):
        ids[name] = c.contacts.upsert(ContactInput(f"{name}@example.com", timezone="Asia/Tokyo", locale="ja"))[0].id
        c.tags.tag(ids[name], add=["a"])
    c.suppressions.suppress("dee@example.com", "hard_bounce", "esp", "evt-1")
    c.preferences.opt_out(ids["eve"], "contact")
    segment = c.segments.define("A", "", {"tag": "a"})
    _, analyst = api.issue("analyst", name="analyst")
    response = api.client.post(CAMPAIGNS, json={"name": "Spring", "category": "news",
                                                "include_segments": [str(segment.id)]}, headers=api.admin)  # fmt: skip
    assert response.status_code == 201, response.text
    c.settle()
    return {"ids": ids, "campaign": response.json()["id"], "analyst": bearer(analyst), "segment": str(segment.id)}


@pytest.fixture
def world(api: Api) -> dict[str, Any]:
    return populate(api)


def test_the_audience_answers_the_count_each_rule_estimates_and_bounds(api: Api, world: dict[str, Any]) -> None:
    response = api.client.get(f"{CAMPAIGNS}/{world['campaign']}/audience", headers=world["analyst"])

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["count"], body["included"]) == (3, 5)
    assert [(r["rule"], r["removed"], r["remaining"]) for r in body["rules"]] == [
        ("excluded_segments", 0, 5), ("suppressed", 1, 4), ("opted_out", 1, 3),
        ("unsubscribed_from_category", 0, 3), ("paused", 0, 3), ("frequency_cap", 0, 3),
    ]  # fmt: skip
    estimates = body["estimates"]
    assert (estimates["basis"], estimates["messages"]) == ("defaults", 0)
    assert (estimates["delivered_rate"], estimates["open_rate"], estimates["click_rate"]) == (0.97, 0.2, 0.025)
    assert (estimates["delivered"], estimates["opens"], estimates["clicks"]) == (3, 1, 0)
    assert (body["min_audience"], body["max_audience"], body["within_limits"]) == (1, None, True)


def test_audience_answers_are_cached_until_an_event_or_a_new_minute(api: Api, world: dict[str, Any]) -> None:
    url = f"{CAMPAIGNS}/{world['campaign']}/audience"
    first = api.client.get(url, headers=api.admin).json()
    # Three more asks within a second: at most one can fall in a new minute, so a later one is a cache hit.
    again = [api.client.get(url, headers=api.admin).json() for _ in range(3)]

    assert not first["cached"]
    assert any(a["cached"] and a["count"] == first["count"] for a in again)

    api.container.preferences.opt_out(world["ids"]["ann"], "contact")
    api.container.settle()
    fresh = api.client.get(url, headers=api.admin).json()

    assert (fresh["cached"], fresh["count"]) == (False, first["count"] - 1)


def test_per_campaign_bounds_override_the_global_ones(api: Api, world: dict[str, Any]) -> None:
    url = f"{CAMPAIGNS}/{world['campaign']}"
    assert api.client.patch(url, json={"min_audience": 4}, headers=api.admin).status_code == 200

    body = api.client.get(f"{url}/audience", headers=api.admin).json()

    assert (body["min_audience"], body["max_audience"], body["within_limits"]) == (4, None, False)
    settings = api.container.campaigns.get(UUID(world["campaign"])).settings
    with pytest.raises(AudienceTooSmall) as caught:
        check_audience_size(body["count"], settings, api.container.settings.min_audience, None)
    assert caught.value.details == {"count": 3, "min_audience": 4}

    assert api.client.patch(url, json={"min_audience": None, "max_audience": 2}, headers=api.admin).status_code == 200
    body = api.client.get(f"{url}/audience", headers=api.admin).json()
    assert (body["min_audience"], body["max_audience"], body["within_limits"]) == (1, 2, False)


def test_unusable_bounds_are_refused_naming_the_field(api: Api, world: dict[str, Any]) -> None:
    url = f"{CAMPAIGNS}/{world['campaign']}"

    details = error_of(api.client.patch(url, json={"min_audience": 5, "max_audience": 4}, headers=api.admin), 422,
                       "invalid_settings")  # fmt: skip

    assert details["field"] == "max_audience"
    assert error_of(api.client.patch(url, json={"min_audience": -1}, headers=api.admin), 422,
                    "invalid_settings")["field"] == "min_audience"  # fmt: skip


def test_global_bounds_come_from_settings(tmp_path: Any) -> None:
    with service(Settings(data_dir=tmp_path, min_audience=10, max_audience=1000)) as api:
        world = populate(api)
        body = api.client.get(f"{CAMPAIGNS}/{world['campaign']}/audience", headers=api.admin).json()

    assert (body["min_audience"], body["max_audience"], body["within_limits"]) == (10, 1000, False)


def test_recipients_page_through_everyone_once_in_id_order(api: Api, world: dict[str, Any]) -> None:
    url = f"{CAMPAIGNS}/{world['campaign']}/recipients"
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        response = api.client.get(url, params=params, headers=world["analyst"])
        assert response.status_code == 200, response.text
        seen += response.json()["items"]
        if response.json()["next_cursor"] is None:
            break
        params["cursor"] = response.json()["next_cursor"]

    expected = sorted(str(world["ids"][n]) for n in ("ann", "bob", "cy_1"))
    assert [r["id"] for r in seen] == expected
    assert {(r["timezone"], r["locale"]) for r in seen} == {("Asia/Tokyo", "ja")}
    assert {r["email"] for r in seen} == {"ann@example.com", "bob@example.com", "cy_1@example.com"}


def test_q_filters_recipients_by_email(api: Api, world: dict[str, Any]) -> None:
    url = f"{CAMPAIGNS}/{world['campaign']}/recipients"

    def emails(q: str) -> list[str]:
        return [r["email"] for r in api.client.get(url, params={"q": q}, headers=api.admin).json()["items"]]

    assert emails("Y_") == ["cy_1@example.com"]
    assert emails("_") == ["cy_1@example.com"]
    assert emails("DEE") == []  # suppressed: not a recipient


@pytest.mark.parametrize("limit", ["0", "501", "x"])
def test_a_limit_out_of_bounds_is_a_400(api: Api, world: dict[str, Any], limit: str) -> None:
    response = api.client.get(f"{CAMPAIGNS}/{world['campaign']}/recipients", params={"limit": limit},
                              headers=api.admin)  # fmt: skip

    error_of(response, 400, "bad_request")


def test_a_cursor_not_handed_out_is_a_400_saying_so(api: Api, world: dict[str, Any]) -> None:
    response = api.client.get(f"{CAMPAIGNS}/{world['campaign']}/recipients", params={"cursor": world["segment"]},
                              headers=api.admin)  # fmt: skip

    details = error_of(response, 400, "bad_request")
    assert "cursor" in response.json()["error"]["message"]
    assert details["fields"][0]["key"] == "cursor"


@pytest.mark.parametrize("endpoint", ["audience", "recipients"])
def test_an_unknown_campaign_is_a_404(api: Api, world: dict[str, Any], endpoint: str) -> None:
    error_of(api.client.get(f"{CAMPAIGNS}/{uuid4()}/{endpoint}", headers=api.admin), 404, "not_found")


@pytest.mark.parametrize("endpoint", ["audience", "recipients"])
def test_every_role_may_read_and_strangers_may_not(api: Api, world: dict[str, Any], endpoint: str) -> None:
    url = f"{CAMPAIGNS}/{world['campaign']}/{endpoint}"
    for role in ("editor", "approver"):
        assert api.client.get(url, headers=bearer(api.issue(role, name=role)[1])).status_code == 200

    assert api.client.get(url).status_code == 401


def test_an_audience_reads_through_the_built_container_without_http(tmp_path: Any) -> None:
    # The lead's scheduling path: the same answer from the container the worker holds.
    container = build(Settings(data_dir=tmp_path))
    try:
        container.preferences.define_category("news", "News")
        segment = container.segments.define("All", "", {"attribute": "email", "op": "exists"})
        container.contacts.upsert(ContactInput("solo@example.com"))
        campaign = container.campaigns.create("Solo", {"category": "news", "include_segments": [segment.id]})
        container.runner.catch_up_all()
        out = audience_of(container, campaign.id, datetime.now(UTC))
    finally:
        container.close()

    assert (out.count, out.within_limits, out.estimates.basis) == (1, True, "defaults")
