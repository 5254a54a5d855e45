"""The API key endpoints over HTTP, on SQLite and PostgreSQL: roles, auth, validation, audit attribution."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from interfaces.config import Settings
from tests.interfaces.client import Api, bearer, error_of, service

KEYS = "/api/v1/keys"


def test_issuing_a_key_shows_its_secret_once(api: Api) -> None:
    response = api.client.post(KEYS, json={"name": "newsletter bot", "role": "editor"}, headers=api.admin)

    assert response.status_code == 201
    issued = response.json()
    assert issued["key"].startswith(issued["prefix"])
    assert issued["name"] == "newsletter bot"
    assert issued["role"] == "editor"
    assert issued["active"] is True
    for later in (api.client.get(f"{KEYS}/{issued['id']}", headers=api.admin), api.client.get(KEYS, headers=api.admin)):
        assert later.status_code == 200
        assert issued["key"] not in later.text
        assert '"key"' not in later.text


def test_a_new_key_authenticates_at_once(api: Api) -> None:
    _, token = api.issue("admin", name="second admin")

    response = api.client.get(KEYS, headers=bearer(token))

    assert response.status_code == 200
    assert {k["name"] for k in response.json()} == {"bootstrap admin", "second admin"}


@pytest.mark.parametrize("role", ["editor", "approver", "analyst"])
def test_only_admins_may_manage_keys(api: Api, role: str) -> None:
    key_id, token = api.issue(role)

    for response in (
        api.client.get(KEYS, headers=bearer(token)),
        api.client.get(f"{KEYS}/{key_id}", headers=bearer(token)),
        api.client.post(KEYS, json={"name": "mine", "role": "admin"}, headers=bearer(token)),
        api.client.post(f"{KEYS}/{key_id}/revoke", headers=bearer(token)),
    ):
        error_of(response, 403, "forbidden")


@pytest.mark.parametrize(
    "authorization",
    [None, "tdg_no_scheme", "Basic YWRtaW46YWRtaW4=", "Bearer ", "Bearer tdg_never_issued"],
    ids=["missing", "no-scheme", "basic", "empty-bearer", "unknown-key"],
)
def test_requests_without_a_valid_key_are_unauthorized(api: Api, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = api.client.get(KEYS, headers=headers)

    error_of(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_key_stops_authenticating(api: Api) -> None:
    key_id, token = api.issue("admin")
    assert api.client.get(KEYS, headers=bearer(token)).status_code == 200

    assert api.client.post(f"{KEYS}/{key_id}/revoke", headers=api.admin).status_code == 200
    response = api.client.get(KEYS, headers=bearer(token))

    error_of(response, 401, "unauthorized")
    assert "WWW-Authenticate" in response.headers


def test_renaming_a_key_changes_its_name(api: Api) -> None:
    key_id, _ = api.issue("analyst", name="old name")

    response = api.client.patch(f"{KEYS}/{key_id}", json={"name": "new name"}, headers=api.admin)

    assert response.status_code == 200
    assert response.json()["name"] == "new name"
    assert api.client.get(f"{KEYS}/{key_id}", headers=api.admin).json()["name"] == "new name"


def test_a_blank_name_breaks_the_name_rule(api: Api) -> None:
    key_id, _ = api.issue("analyst")

    response = api.client.patch(f"{KEYS}/{key_id}", json={"name": "   "}, headers=api.admin)

    error_of(response, 422, "invalid_name")


def test_revoking_without_a_body_deactivates_the_key(api: Api) -> None:
    key_id, _ = api.issue("editor")

    response = api.client.post(f"{KEYS}/{key_id}/revoke", headers=api.admin)

    assert response.status_code == 200
    assert response.json()["active"] is False
    assert response.json()["revoked_at"] is not None


def test_revoking_with_a_reason_records_it(api: Api) -> None:
    key_id, _ = api.issue("editor")

    response = api.client.post(f"{KEYS}/{key_id}/revoke", json={"reason": "laptop stolen"}, headers=api.admin)

    assert response.status_code == 200
    events = api.client.get(f"/api/v1/history/{key_id}", headers=api.admin).json()["events"]
    assert events[-1]["type"] == "ApiKey.Revoked"
    assert events[-1]["reason"] == "laptop stolen"


def test_revoking_twice_is_a_conflict(api: Api) -> None:
    key_id, _ = api.issue("editor")
    api.client.post(f"{KEYS}/{key_id}/revoke", headers=api.admin)

    response = api.client.post(f"{KEYS}/{key_id}/revoke", headers=api.admin)

    assert error_of(response, 409, "api_key_already_revoked") == {"key_id": key_id}


def test_unknown_keys_are_not_found(api: Api) -> None:
    unknown = f"{KEYS}/{uuid.uuid4()}"

    for response in (
        api.client.get(unknown, headers=api.admin),
        api.client.patch(unknown, json={"name": "x"}, headers=api.admin),
        api.client.post(f"{unknown}/revoke", headers=api.admin),
    ):
        error_of(response, 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "role": "editor"},
        {"name": "x" * 101, "role": "editor"},
        {"name": "x", "role": "superuser"},
        {"name": "x"},
        {"name": "x", "role": "editor", "scopes": ["all"]},
        b'{"name": "x", "role": ',
    ],
    ids=["empty-name", "long-name", "unknown-role", "missing-role", "unknown-field", "malformed-json"],
)
def test_invalid_bodies_are_bad_requests_with_field_details(api: Api, body: dict[str, object] | bytes) -> None:
    if isinstance(body, bytes):
        headers = {**api.admin, "Content-Type": "application/json"}
        response = api.client.post(KEYS, content=body, headers=headers)
    else:
        response = api.client.post(KEYS, json=body, headers=api.admin)

    details = error_of(response, 400, "bad_request")
    assert isinstance(details["fields"], list)
    assert details["fields"]


def test_bodies_must_be_json(api: Api) -> None:
    headers = {**api.admin, "Content-Type": "text/plain"}

    response = api.client.post(KEYS, content=b"name=x&role=editor", headers=headers)

    error_of(response, 415, "unsupported_media_type")


def test_bodies_over_the_limit_are_refused(settings: Settings) -> None:
    with service(dataclasses.replace(settings, max_body_bytes=64)) as api:
        response = api.client.post(KEYS, json={"name": "x" * 80, "role": "editor"}, headers=api.admin)

        error_of(response, 413, "payload_too_large")
        small = api.client.post(KEYS, json={"name": "x", "role": "editor"}, headers=api.admin)
        assert small.status_code == 201


def test_listing_hides_revoked_keys_unless_asked(api: Api) -> None:
    kept, _ = api.issue("editor", name="kept")
    gone, _ = api.issue("editor", name="gone")
    api.client.post(f"{KEYS}/{gone}/revoke", headers=api.admin)

    active = api.client.get(KEYS, headers=api.admin).json()
    everything = api.client.get(KEYS, params={"include_revoked": "true"}, headers=api.admin).json()

    assert {k["id"] for k in active} == {str(api.admin_id), kept}
    assert {k["id"] for k in everything} == {str(api.admin_id), kept, gone}
    assert [k["active"] for k in everything if k["id"] == gone] == [False]


def test_every_response_carries_a_request_id(api: Api) -> None:
    response = api.client.get(KEYS, headers=api.admin)

    assert response.headers["x-request-id"]


def test_rejected_requests_carry_a_request_id_too(api: Api) -> None:
    response = api.client.get(KEYS, headers={"X-Request-Id": "req-unauthorized-1"})

    assert response.status_code == 401
    assert response.headers.get("x-request-id") == "req-unauthorized-1"


def test_a_sane_client_request_id_is_echoed_and_recorded(api: Api) -> None:
    headers = {**api.admin, "X-Request-Id": "req-2026.01:abc_DEF-9"}

    response = api.client.post(KEYS, json={"name": "traced", "role": "analyst"}, headers=headers)

    assert response.headers["x-request-id"] == "req-2026.01:abc_DEF-9"
    history = api.client.get(f"/api/v1/history/{response.json()['id']}", headers=api.admin).json()
    assert history["events"][0]["request_id"] == "req-2026.01:abc_DEF-9"


@pytest.mark.parametrize("supplied", ["has spaces", "x" * 129, "quote'\"", "line\tbreak"])
def test_an_unsafe_client_request_id_is_replaced(api: Api, supplied: str) -> None:
    headers = {**api.admin, "X-Request-Id": supplied}

    response = api.client.post(KEYS, json={"name": "traced", "role": "analyst"}, headers=headers)

    assigned = response.headers["x-request-id"]
    assert assigned != supplied
    history = api.client.get(f"/api/v1/history/{response.json()['id']}", headers=api.admin).json()
    assert history["events"][0]["request_id"] == assigned


def test_history_names_the_calling_key_and_the_reason(api: Api) -> None:
    key_id, _ = api.issue("approver", reason="new approver joined")
    api.client.patch(f"{KEYS}/{key_id}", json={"name": "renamed", "reason": "typo"}, headers=api.admin)

    events = api.client.get(f"/api/v1/history/{key_id}", headers=api.admin).json()["events"]

    assert [e["type"] for e in events] == ["ApiKey.Issued", "ApiKey.Renamed"]
    assert {e["actor"] for e in events} == {f"api_key:{api.admin_id}"}
    assert [e["reason"] for e in events] == ["new approver joined", "typo"]
