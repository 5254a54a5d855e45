"""Campaigns over HTTP: versions, diff and restore, the review workflow with four-eyes, roles, the error answers,
and the audit endpoints answering "who approved which version when"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from application.contacts import ContactInput
from tests.interfaces.client import Api, bearer, error_of

CAMPAIGNS = "/api/v1/campaigns"


@pytest.fixture
def team(api: Api) -> dict[str, Any]:
    """Keys for an editor, an approver and an analyst (id and headers), and references a campaign needs."""
    c = api.container
    c.preferences.define_category("news", "News")
    connection = c.connections.connect("Postmark", "postmark", {"basic_auth": {"username": "u", "password": "p" * 12}})
    segment = c.segments.define("Everyone", "", {"attribute": "plan", "op": "exists"})
    c.contacts.upsert(ContactInput("pat@example.com", {"plan": "pro"}))  # scheduling needs an audience
    keys = {role: api.issue(role, name=role) for role in ("editor", "approver", "analyst")}
    return {
        **{role: bearer(token) for role, (_, token) in keys.items()},
        **{f"{role}_actor": f"api_key:{key_id}" for role, (key_id, _) in keys.items()},
        "fields": {"category": "news", "esp_connection_id": str(connection.id), "include_segments": [str(segment.id)],
                   "from_name": "Shop", "from_address": "news@example.com"},
    }  # fmt: skip


def create(api: Api, team: dict[str, Any], **fields: Any) -> dict[str, Any]:
    html = "<p>Hello</p><a href='{{ unsubscribe_url }}'>Unsubscribe</a>"  # the linter requires the link
    body = {"name": "Spring sale", **team["fields"], "subject": "Spring is here", "html": html, **fields}
    response = api.client.post(CAMPAIGNS, json=body, headers=team["editor"])
    assert response.status_code == 201, response.text
    return dict(response.json())


def act(api: Api, headers: dict[str, str], campaign_id: str, action: str, **body: Any) -> Any:
    return api.client.post(f"{CAMPAIGNS}/{campaign_id}/{action}", json=body or None, headers=headers)


def approved(api: Api, team: dict[str, Any]) -> dict[str, Any]:
    campaign = create(api, team)
    assert act(api, team["editor"], campaign["id"], "submit").status_code == 200
    response = act(api, team["approver"], campaign["id"], "approve", version=1, comment="lgtm")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_new_campaign_is_a_draft_with_content_version_1(api: Api, team: dict[str, Any]) -> None:
    campaign = create(api, team, preheader="Fresh deals", notes="for March")

    assert (campaign["state"], campaign["allowed"]) == ("draft", ["edit", "submit", "cancel"])
    content = campaign["content"]
    assert (content["version"], content["subject"], content["text"], content["author"]) == (
        1, "Spring is here", None, team["editor_actor"],
    )  # fmt: skip
    assert len(content["content_hash"]) == 64
    assert campaign["settings"]["from_address"] == "news@example.com" and campaign["notes"] == "for March"
    listed = api.client.get(CAMPAIGNS, params={"state": "draft"}, headers=team["analyst"]).json()
    assert [c["id"] for c in listed] == [campaign["id"]]


def test_edits_make_versions_that_diff_and_restore(api: Api, team: dict[str, Any]) -> None:
    campaign_id = create(api, team, html="<p>Hello</p>\n<p>Bye</p>")["id"]
    edited = api.client.patch(f"{CAMPAIGNS}/{campaign_id}", json={"html": "<p>Hello</p>\n<p>See you</p>"},
                              headers=team["editor"])  # fmt: skip
    assert edited.status_code == 200 and edited.json()["content"]["version"] == 2

    diff = api.client.get(f"{CAMPAIGNS}/{campaign_id}/versions/1/diff/2", headers=team["analyst"]).json()
    restored = api.client.post(f"{CAMPAIGNS}/{campaign_id}/versions/1/restore", headers=team["editor"])

    assert [c["field"] for c in diff["changes"]] == ["html"]
    assert diff["changes"][0]["diff"].splitlines() == [
        "--- v1/html", "+++ v2/html", "@@ -1,2 +1,2 @@", " <p>Hello</p>", "-<p>Bye</p>", "+<p>See you</p>",
    ]  # fmt: skip
    assert restored.status_code == 200, restored.text
    versions = api.client.get(f"{CAMPAIGNS}/{campaign_id}/versions", headers=team["analyst"]).json()
    assert [(v["version"], v["restored_from"]) for v in versions] == [(1, None), (2, None), (3, 1)]
    assert versions[2]["content_hash"] == versions[0]["content_hash"]
    third = api.client.get(f"{CAMPAIGNS}/{campaign_id}/versions/3", headers=team["analyst"]).json()
    assert third["html"] == "<p>Hello</p>\n<p>Bye</p>"
    error_of(api.client.get(f"{CAMPAIGNS}/{campaign_id}/versions/9", headers=team["analyst"]), 404, "not_found")


def test_approval_binds_to_the_version_and_an_edit_drops_it(api: Api, team: dict[str, Any]) -> None:
    campaign = approved(api, team)
    assert (campaign["state"], campaign["approved_version"], campaign["approved_by"]) == (
        "approved", 1, team["approver_actor"],
    )  # fmt: skip

    renamed = api.client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"name": "Spring", "notes": "ok"},
                               headers=team["editor"]).json()  # fmt: skip
    assert (renamed["name"], renamed["state"], renamed["approved_version"]) == ("Spring", "approved", 1)

    edited = api.client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"subject": "Spring is HERE", "reason": "caps"},
                              headers=team["editor"]).json()  # fmt: skip

    assert (edited["state"], edited["approved_version"], edited["content"]["version"]) == ("draft", None, 2)


def test_the_author_may_not_approve_their_own_version(api: Api, team: dict[str, Any]) -> None:
    created = api.client.post(CAMPAIGNS, json={"name": "Mine", **team["fields"], "subject": "Hi",
                                                 "html": "<a href='{{ unsubscribe_url }}'>Unsubscribe</a>"},
                              headers=api.admin).json()  # fmt: skip
    act(api, api.admin, created["id"], "submit")

    refused = act(api, api.admin, created["id"], "approve")

    details = error_of(refused, 403, "approver_is_author")
    assert details == {"version": 1, "approver": f"api_key:{api.admin_id}"}
    assert "four-eyes" in refused.json()["error"]["message"]


def test_editors_may_not_approve_and_analysts_may_not_write(api: Api, team: dict[str, Any]) -> None:
    campaign_id = create(api, team)["id"]
    act(api, team["editor"], campaign_id, "submit")

    error_of(act(api, team["editor"], campaign_id, "approve"), 403, "forbidden")
    error_of(act(api, team["analyst"], campaign_id, "submit"), 403, "forbidden")
    error_of(api.client.patch(f"{CAMPAIGNS}/{campaign_id}", json={"notes": "x"}, headers=team["analyst"]), 403,
             "forbidden")  # fmt: skip


def test_an_illegal_transition_answers_409_with_the_allowed_ones(api: Api, team: dict[str, Any]) -> None:
    campaign_id = create(api, team)["id"]

    details = error_of(act(api, team["approver"], campaign_id, "approve"), 409, "illegal_transition")

    assert details == {"state": "draft", "action": "approve", "allowed": ["edit", "submit", "cancel"]}


def test_submission_with_missing_fields_answers_422_listing_them(api: Api, team: dict[str, Any]) -> None:
    campaign_id = api.client.post(CAMPAIGNS, json={"name": "Empty"}, headers=team["editor"]).json()["id"]

    details = error_of(act(api, team["editor"], campaign_id, "submit"), 422, "submission_blocked")

    assert [p["field"] for p in details["problems"]] == [
        "subject", "html", "category", "esp_connection_id", "from_address", "include_segments",
    ]  # fmt: skip
    assert details["problems"][0] == {
        "code": "required", "message": "subject is required to submit", "severity": "error", "field": "subject",
        "line": None, "column": None,
    }  # fmt: skip


def test_reviewers_request_changes_with_a_comment(api: Api, team: dict[str, Any]) -> None:
    campaign_id = create(api, team)["id"]
    act(api, team["editor"], campaign_id, "submit", comment="first draft")

    error_of(act(api, team["approver"], campaign_id, "request-changes"), 422, "comment_required")
    sent_back = act(api, team["approver"], campaign_id, "request-changes", comment="shorter subject")

    assert sent_back.json()["state"] == "draft"
    trail = api.client.get(f"{CAMPAIGNS}/{campaign_id}/reviews", headers=team["analyst"]).json()
    assert [(r["action"], r["version"], r["actor"], r["comment"]) for r in trail] == [
        ("submitted", 1, team["editor_actor"], "first draft"),
        ("changes_requested", 1, team["approver_actor"], "shorter subject"),
    ]


def test_a_stale_approval_is_refused(api: Api, team: dict[str, Any]) -> None:
    campaign_id = create(api, team)["id"]
    api.client.patch(f"{CAMPAIGNS}/{campaign_id}", json={"subject": "v2"}, headers=team["editor"])
    act(api, team["editor"], campaign_id, "submit")

    details = error_of(act(api, team["approver"], campaign_id, "approve", version=1), 409, "version_not_under_review")

    assert details == {"version": 1, "under_review": 2}


def test_schedule_pause_resume_cancel(api: Api, team: dict[str, Any]) -> None:
    campaign_id = approved(api, team)["id"]

    scheduled = act(api, team["editor"], campaign_id, "schedule", scheduled_at="2030-05-01T10:00:00+02:00").json()
    paused = act(api, team["approver"], campaign_id, "pause", reason="legal check").json()
    resumed = act(api, team["editor"], campaign_id, "resume").json()
    cancelled = act(api, team["editor"], campaign_id, "cancel", comment="postponed to autumn").json()

    assert (scheduled["state"], scheduled["scheduled_at"]) == ("scheduled", "2030-05-01T08:00:00.000000+00:00")
    assert (paused["state"], paused["paused_from"], paused["allowed"]) == ("paused", "scheduled",
                                                                           ["resume", "edit", "cancel"])  # fmt: skip
    assert resumed["state"] == "scheduled" and cancelled["allowed"] == []
    naive = act(api, team["editor"], approved(api, team)["id"], "schedule", scheduled_at="2030-05-01T10:00:00")
    error_of(naive, 422, "invalid_instant")


def test_the_audit_endpoints_answer_who_approved_which_version_when(api: Api, team: dict[str, Any]) -> None:
    campaign = approved(api, team)
    campaign_id = campaign["id"]

    events = api.client.get(f"/api/v1/history/{campaign_id}", headers=team["analyst"]).json()["events"]

    [approval] = [e for e in events if e["type"] == "Campaign.Approved"]
    assert (approval["payload"]["version"], approval["actor"]) == (1, team["approver_actor"])
    assert approval["payload"]["comment"] == "lgtm"
    [submission] = [e for e in events if e["type"] == "Campaign.Submitted"]
    between = (
        datetime.fromisoformat(submission["timestamp"])
        + (datetime.fromisoformat(approval["timestamp"]) - datetime.fromisoformat(submission["timestamp"])) / 2
    )
    before = api.client.get(f"/api/v1/history/{campaign_id}/state", params={"at": between.isoformat()},
                            headers=team["analyst"]).json()  # fmt: skip
    after = api.client.get(f"/api/v1/history/{campaign_id}/state", headers=team["analyst"]).json()
    assert (before["state"]["state"], before["state"]["approval"]) == ("in_review", None)
    assert after["state"]["approval"] == {"version": 1, "approver": team["approver_actor"]}
    assert campaign["approved_at"] == datetime.fromisoformat(approval["timestamp"]).isoformat(timespec="microseconds")


def test_unknown_campaigns_and_bad_references(api: Api, team: dict[str, Any]) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"

    error_of(api.client.get(f"{CAMPAIGNS}/{unknown}", headers=team["analyst"]), 404, "not_found")
    error_of(act(api, team["editor"], unknown, "submit"), 404, "not_found")
    bad = api.client.post(CAMPAIGNS, json={"name": "x", "template_id": unknown}, headers=team["editor"])
    assert error_of(bad, 422, "unknown_reference")["field"] == "template_id"
    header = api.client.post(CAMPAIGNS, json={"name": "x", "subject": "a\r\nBcc: x@y.z"}, headers=team["editor"])
    assert error_of(header, 422, "invalid_content")["field"] == "subject"
