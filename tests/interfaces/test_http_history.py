"""The audit endpoints over HTTP: recorded events with secrets redacted, and state as of an instant."""

from __future__ import annotations

import uuid
from datetime import datetime

from tests.interfaces.client import Api, bearer, error_of

HISTORY = "/api/v1/history"


def _renamed_key(api: Api) -> tuple[str, list[dict[str, object]]]:
    key_id, _ = api.issue("editor", name="before")
    api.client.patch(f"/api/v1/keys/{key_id}", json={"name": "after"}, headers=api.admin)
    events = api.client.get(f"{HISTORY}/{key_id}", headers=api.admin).json()["events"]
    return key_id, events


def test_history_lists_events_oldest_first_with_secrets_redacted(api: Api) -> None:
    key_id, token = api.issue("editor")

    response = api.client.get(f"{HISTORY}/{key_id}", headers=api.admin)

    assert response.status_code == 200
    body = response.json()
    assert body["aggregate_id"] == key_id
    [issued] = body["events"]
    assert issued["type"] == "ApiKey.Issued"
    assert issued["version"] == 1
    assert issued["payload"]["token_hash"] == "[redacted]"
    assert issued["payload"]["name"] == "a key"
    assert token not in response.text


def test_state_between_two_events_is_the_earlier_state(api: Api) -> None:
    key_id, events = _renamed_key(api)
    first, second = (datetime.fromisoformat(str(e["timestamp"])) for e in events)
    between = first + (second - first) / 2

    response = api.client.get(f"{HISTORY}/{key_id}/state", params={"at": between.isoformat()}, headers=api.admin)

    assert response.status_code == 200
    state = response.json()
    assert state["aggregate_type"] == "ApiKey"
    assert state["version"] == 1
    assert state["state"]["name"] == "before"
    assert state["state"]["token_hash"] == "[redacted]"


def test_state_without_an_instant_is_the_current_state(api: Api) -> None:
    key_id, _ = _renamed_key(api)

    state = api.client.get(f"{HISTORY}/{key_id}/state", headers=api.admin).json()

    assert state["version"] == 2
    assert state["state"]["name"] == "after"


def test_state_before_creation_is_not_found(api: Api) -> None:
    key_id, _ = api.issue("editor")

    response = api.client.get(f"{HISTORY}/{key_id}/state", params={"at": "2000-01-01T00:00:00Z"}, headers=api.admin)

    assert "created_at" in error_of(response, 404, "not_found")


def test_an_instant_without_offset_is_invalid(api: Api) -> None:
    key_id, _ = api.issue("editor")

    response = api.client.get(f"{HISTORY}/{key_id}/state", params={"at": "2030-01-01T00:00:00"}, headers=api.admin)

    error_of(response, 422, "invalid")


def test_an_instant_that_is_not_a_date_is_a_bad_request(api: Api) -> None:
    key_id, _ = api.issue("editor")

    response = api.client.get(f"{HISTORY}/{key_id}/state", params={"at": "last tuesday"}, headers=api.admin)

    assert error_of(response, 400, "bad_request")["fields"]


def test_unknown_aggregates_have_no_history(api: Api) -> None:
    unknown = uuid.uuid4()

    error_of(api.client.get(f"{HISTORY}/{unknown}", headers=api.admin), 404, "not_found")
    error_of(api.client.get(f"{HISTORY}/{unknown}/state", headers=api.admin), 404, "not_found")


def test_analysts_may_read_history(api: Api) -> None:
    _, token = api.issue("analyst")

    response = api.client.get(f"{HISTORY}/{api.admin_id}", headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["events"][0]["actor"] == "system"


def test_history_needs_a_key(api: Api) -> None:
    error_of(api.client.get(f"{HISTORY}/{api.admin_id}"), 401, "unauthorized")
