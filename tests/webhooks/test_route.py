"""POST /webhooks/{connection}: limits, verification, durable storage, dedup and quarantine, end to end.

Postmark is used as the carrier because its scheme (HTTP Basic credentials) is the simplest to drive;
every provider shares this route.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from click.testing import CliRunner

from interfaces.cli.main import cli
from tests.interfaces.client import Api

CREDS = {"username": "postmark", "password": "s3cret-pass"}
DELIVERY = {
    "RecordType": "Delivery",
    "ServerID": 23,
    "MessageStream": "outbound",
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "Recipient": "John@Example.com",
    "Tag": "welcome-email",
    "DeliveredAt": "2019-11-05T16:33:54.9070259Z",
    "Details": "Test delivery webhook details",
    "Metadata": {"campaign": "c-1"},
}


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def connect(api: Api, **webhook: Any) -> dict[str, Any]:
    body = {"name": "Postmark main", "provider": "postmark", "webhook": {"basic_auth": CREDS, **webhook}}
    response = api.client.post("/api/v1/esp-connections", json=body, headers=api.admin)
    assert response.status_code == 201, response.text
    return response.json()


def post(api: Api, url: str, payload: Any, creds: dict[str, str] = CREDS, **headers: str) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    all_headers = {"Content-Type": "application/json", **basic(creds["username"], creds["password"]), **headers}
    return api.client.post(url, content=body, headers=all_headers)


def events(api: Api, **query: str) -> list[dict[str, Any]]:
    api.container.settle()
    response = api.client.get("/api/v1/email-events", params=query, headers=api.admin)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_verified_delivery_is_stored_and_normalized(api: Api) -> None:
    conn = connect(api)
    response = post(api, conn["webhook_url"], DELIVERY)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"
    assert response.json()["events"] == 1
    [event] = events(api)
    assert (event["type"], event["recipient"]) == ("delivered", "john@example.com")
    assert event["provider_message_id"] == DELIVERY["MessageID"]
    assert event["connection_id"] == conn["id"]
    assert event["occurred_at"].startswith("2019-11-05T16:33:54.907025")


def test_the_same_event_delivered_twice_is_stored_once(api: Api) -> None:
    conn = connect(api)
    assert post(api, conn["webhook_url"], DELIVERY).status_code == 200
    assert post(api, conn["webhook_url"], DELIVERY).status_code == 200
    assert len(events(api)) == 1


def test_wrong_or_missing_credentials_get_401_and_store_nothing(api: Api) -> None:
    conn = connect(api)
    head = api.container.store.head()
    wrong = post(api, conn["webhook_url"], DELIVERY, creds={"username": "postmark", "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"
    missing = api.client.post(conn["webhook_url"], json=DELIVERY)
    assert missing.status_code == 401
    assert api.container.store.head() == head


def test_unknown_and_disabled_connections_get_404(api: Api) -> None:
    assert post(api, f"/webhooks/{uuid.uuid4()}", DELIVERY).status_code == 404
    conn = connect(api)
    assert api.client.post(f"/api/v1/esp-connections/{conn['id']}/disable", headers=api.admin).status_code == 200
    assert post(api, conn["webhook_url"], DELIVERY).status_code == 404
    assert api.client.post(f"/api/v1/esp-connections/{conn['id']}/enable", headers=api.admin).status_code == 200
    assert post(api, conn["webhook_url"], DELIVERY).status_code == 200


def test_a_head_probe_answers_200_for_a_live_connection_and_404_otherwise(api: Api) -> None:
    conn = connect(api)
    assert api.client.head(conn["webhook_url"]).status_code == 200
    assert api.client.head(f"/webhooks/{uuid.uuid4()}").status_code == 404


def test_transport_problems_get_specific_errors_and_store_nothing(api: Api) -> None:
    conn = connect(api, max_body_bytes=2048)
    head = api.container.store.head()
    url = conn["webhook_url"]
    wrong_type = post(api, url, DELIVERY, **{"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    too_big = post(api, url, {**DELIVERY, "Details": "x" * 4096})
    assert too_big.status_code == 413
    not_json = post(api, url, b'{"RecordType": ')
    assert (not_json.status_code, not_json.json()["error"]["code"]) == (400, "bad_request")
    assert "JSON" in not_json.json()["error"]["message"]
    not_utf8 = post(api, url, b'{"Recipient": "\xff"}')
    assert not_utf8.status_code == 400
    assert "UTF-8" in not_utf8.json()["error"]["message"]
    deep = post(api, url, b"[" * 100 + b"]" * 100)
    assert deep.status_code == 400
    assert "nested" in deep.json()["error"]["message"]
    assert api.container.store.head() == head


def test_a_connection_over_its_rate_limit_gets_429_with_retry_after(api: Api) -> None:
    conn = connect(api, rate_limit_per_second=0.5)
    statuses = [post(api, conn["webhook_url"], {**DELIVERY, "MessageID": str(i)}).status_code for i in range(3)]
    assert statuses[0] == 200
    assert 429 in statuses
    limited = post(api, conn["webhook_url"], DELIVERY)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1


def test_a_bad_item_is_quarantined_and_the_rest_accepted(api: Api) -> None:
    conn = connect(api)
    response = post(api, conn["webhook_url"], {**DELIVERY, "Recipient": None})
    assert response.status_code == 200
    assert response.json()["quarantined"] == 1
    api.container.settle()
    page = api.client.get("/api/v1/webhook-quarantine", headers=api.admin).json()
    [item] = page["items"]
    assert item["connection_id"] == conn["id"]
    assert item["provider"] == "postmark"
    assert item["reason"]


def test_rotated_credentials_overlap_then_the_old_ones_stop(api: Api) -> None:
    conn = connect(api)
    new = {"username": "postmark", "password": "rotated-pass"}
    patch = {"webhook": {"basic_auth": new}, "overlap_seconds": 3600}
    rotated = api.client.patch(f"/api/v1/esp-connections/{conn['id']}", json=patch, headers=api.admin)
    assert rotated.status_code == 200, rotated.text
    assert post(api, conn["webhook_url"], DELIVERY, creds=new).status_code == 200
    assert post(api, conn["webhook_url"], DELIVERY).status_code == 200
    now = {"webhook": {"basic_auth": {"username": "postmark", "password": "third"}}, "overlap_seconds": 0}
    api.client.patch(f"/api/v1/esp-connections/{conn['id']}", json=now, headers=api.admin)
    assert post(api, conn["webhook_url"], DELIVERY, creds=new).status_code == 401


def test_connection_secrets_are_never_returned(api: Api) -> None:
    conn = connect(api)
    listed = api.client.get("/api/v1/esp-connections", headers=api.admin).text
    history = api.client.get(f"/api/v1/history/{conn['id']}", headers=api.admin).text
    for text in (json.dumps(conn), listed, history):
        assert CREDS["password"] not in text


def test_invalid_connection_settings_are_refused_with_the_reason(api: Api) -> None:
    bad = {"name": "x", "provider": "postmark", "webhook": {"bearer_token": "t"}}
    response = api.client.post("/api/v1/esp-connections", json=bad, headers=api.admin)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_webhook_settings"
    unknown = api.client.post("/api/v1/esp-connections", json={**bad, "provider": "pigeon"}, headers=api.admin)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_provider")
    assert "postmark" in unknown.json()["error"]["details"]["allowed"]


def test_the_delivery_is_in_the_audit_log_attributed_to_the_connection(api: Api) -> None:
    conn = connect(api)
    delivery_id = post(api, conn["webhook_url"], DELIVERY, **{"X-Request-Id": "pm-1"}).json()["delivery_id"]
    [received] = api.client.get(f"/api/v1/history/{delivery_id}", headers=api.admin).json()["events"]
    assert received["actor"] == f"esp:{conn['id']}"
    assert received["request_id"] == "pm-1"
    assert "authorization" not in received["payload"]["headers"]


def test_renormalizing_changes_nothing_when_adapters_are_unchanged(api: Api) -> None:
    conn = connect(api)
    post(api, conn["webhook_url"], DELIVERY)
    post(api, conn["webhook_url"], {**DELIVERY, "Recipient": None})
    settings = api.container.settings
    env = {"TIDINGS_DATA_DIR": str(settings.data_dir), "TIDINGS_DATABASE_URL": settings.database_url}
    result = CliRunner().invoke(cli, ["webhooks", "renormalize"], env=env, catch_exceptions=False)
    assert result.exit_code == 0
    assert "renormalized 2 deliveries: 0 changed" in result.output
    assert len(events(api)) == 1


def test_nul_characters_in_esp_text_are_replaced_and_every_read_model_keeps_up(api: Api) -> None:
    # PostgreSQL text cannot hold U+0000: stored as sent, this delivery stopped every read model for good.
    conn = connect(api)
    bounce = {
        "RecordType": "Bounce", "ID": 4323372036854775807, "Type": "HardBounce", "TypeCode": 1,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483", "Email": "ann@example.com",
        "Details": "smtp;550 5.1.1 no\u0000such user", "BouncedAt": "2019-11-05T16:33:54.9070259Z",
        "Metadata": {"camp\u0000aign": "c-\u00001"}, "MessageStream": "outbound",
    }  # fmt: skip

    assert post(api, conn["webhook_url"], bounce).status_code == 200
    assert post(api, conn["webhook_url"], {**DELIVERY, "RecordType": "Nope\u0000"}).status_code == 200
    assert post(api, conn["webhook_url"], DELIVERY).status_code == 200

    found = {e["type"]: e for e in events(api)}
    assert found["bounced"]["reason"] == "smtp;550 5.1.1 no\ufffdsuch user"
    assert found["bounced"]["metadata"] == {"camp\ufffdaign": "c-\ufffd1"}
    assert found["unknown"]["provider_event_type"] == "Nope\ufffd"
    assert "delivered" in found  # posted after the NUL ones: the log kept moving
    api.container.settle()
    assert all(p["lag"] == 0 for p in api.client.get("/api/v1/projections", headers=api.admin).json())
