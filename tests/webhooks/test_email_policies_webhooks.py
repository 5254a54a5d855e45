"""Policies end to end: signed webhooks in, suppressions and preferences out, the audit trail in between.

Standard Webhooks carries every normalized type (Tidings' own format, HMAC-signed); Postmark's published
records show a real ESP's complaint, unsubscribe and resubscribe doing the same.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac

from application.contacts import ContactInput
from domain.contact_preferences import preferences_id
from domain.email_address import contact_id_for
from domain.suppression import suppression_id
from tests.interfaces.client import Api
from tests.webhooks.test_route import basic

KEY = b"policies-test-key-0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
POSTMARK = Path(__file__).parent / "fixtures" / "postmark"
POSTMARK_CREDS = {"username": "postmark", "password": "s3cret-pass"}


def connect(api: Api, provider: str, webhook: dict[str, Any]) -> tuple[str, str]:
    body = {"name": provider, "provider": provider, "webhook": webhook}
    response = api.client.post("/api/v1/esp-connections", json=body, headers=api.admin)
    assert response.status_code == 201, response.text
    return response.json()["id"], response.json()["webhook_url"]


def signed_post(api: Api, url: str, payload: Any, msg_id: str | None = None) -> Any:
    body = json.dumps(payload).encode()
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    stamp = str(int(datetime.now(UTC).timestamp()))
    mac = hmac.HMAC(KEY, hashes.SHA256())
    mac.update(f"{msg_id}.{stamp}.".encode() + body)
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(mac.finalize()).decode(),
    }
    response = api.client.post(url, content=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def item(kind: str, to: str, at: str, event_id: str, **data: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": at, "data": {"recipient": to, "event_id": event_id, **data}}


def settled(api: Api) -> None:
    # The reactor's commands move the head while the read models settle: wait until it stands still.
    while True:
        head = api.container.store.head()
        assert api.container.settle()
        if api.container.store.head() == head:
            return


def contact(api: Api, email: str) -> str:
    created, _ = api.container.contacts.upsert(ContactInput(email))
    return str(created.id)


def get(api: Api, path: str) -> Any:
    settled(api)
    response = api.client.get(f"/api/v1{path}", headers=api.admin)
    assert response.status_code in (200, 404), response.text
    return response.json() if response.status_code == 200 else None


def store_versions(api: Api, *emails: str) -> list[int]:
    """How many events each address's suppression and its contact's preferences hold."""
    c = api.container
    return [
        len(list(c.history.events.get(aggregate_id)))
        for email in emails
        for aggregate_id in (suppression_id(email), preferences_id(uuid.UUID(contact(api, email))))
    ]


def test_each_policy_through_one_signed_batch(api: Api) -> None:
    _, url = connect(api, "standard_webhooks", {"secrets": [SECRET]})
    ann, bob, cy = contact(api, "ann@example.com"), contact(api, "bob@example.com"), contact(api, "cy@example.com")
    category = api.client.post("/api/v1/preference-categories", json={"key": "news", "name": "News"}, headers=api.admin)
    assert category.status_code == 201, category.text
    settled(api)

    ack = signed_post(api, url, [
        item("bounced", "hard@example.com", "2026-03-01T10:00:00Z", "e1", bounce_class="hard"),
        item("complained", "Bob@Example.com", "2026-03-01T10:01:00Z", "e2"),
        item("unsubscribed", "ann@example.com", "2026-03-01T10:02:00Z", "e3", metadata={"tidings_category": "news"}),
        item("unsubscribed", "cy@example.com", "2026-03-01T10:03:00Z", "e4"),
        item("suppression_added", "esp@example.com", "2026-03-01T10:04:00Z", "e5"),
        item("delivered", "dee@example.com", "2026-03-01T10:05:00Z", "e6"),
    ])  # fmt: skip

    assert ack["events"] == 6
    reasons = {s["address"]: s["reason"] for s in get(api, "/suppressions")["items"]}
    assert reasons == {"hard@example.com": "hard_bounce", "bob@example.com": "complaint", "esp@example.com": "esp"}
    assert get(api, f"/contacts/{bob}/preferences")["opted_out"] is True
    ann_prefs = get(api, f"/contacts/{ann}/preferences")
    assert (ann_prefs["opted_out"], [(c["key"], c["subscribed"]) for c in ann_prefs["categories"]]) == (
        False,
        [("news", False)],
    )
    assert get(api, f"/contacts/{cy}/preferences")["opted_out"] is True


def test_the_audit_history_shows_the_esp_connection_the_source_and_the_event(api: Api) -> None:
    connection_id, url = connect(api, "standard_webhooks", {"secrets": [SECRET]})
    bob = contact(api, "bob@example.com")

    signed_post(api, url, item("complained", "bob@example.com", "2026-03-01T10:01:00Z", "e2"))

    history = get(api, f"/contacts/{bob}/preferences/history")["events"]
    changes = [(e["aggregate"], e["type"]) for e in history]
    assert ("preferences", "OptedOut") in changes and ("suppression", "Suppressed") in changes
    for change in history:
        assert change["actor"] == f"esp:{connection_id}"
        assert change["source"] == "esp"
    [opted_out] = [e for e in history if e["type"] == "OptedOut"]
    assert opted_out["effective_at"].startswith("2026-03-01T10:01:00")
    [email_event] = get(api, "/email-events")["items"]
    assert opted_out["cause"] == email_event["id"]
    assert opted_out["reason"] == f"ESP-reported complained: complained event {email_event['id']}"


def test_the_same_signed_webhook_twice_and_a_copy_in_another_batch_change_nothing(api: Api) -> None:
    _, url = connect(api, "standard_webhooks", {"secrets": [SECRET]})
    contact(api, "bob@example.com")
    complaint = item("complained", "bob@example.com", "2026-03-01T10:01:00Z", "e2")
    signed_post(api, url, complaint, msg_id="msg_1")
    settled(api)
    before, head = store_versions(api, "bob@example.com"), api.container.store.head()

    signed_post(api, url, complaint, msg_id="msg_1")
    signed_post(api, url, [complaint, item("bounced", "new@example.com", "2026-03-01T11:00:00Z", "e9",
                                           bounce_class="hard")])  # fmt: skip
    settled(api)

    assert store_versions(api, "bob@example.com") == before
    # Two deliveries, and the new address's suppression (opened and suppressed in one save).
    assert api.container.store.head() == head + 2 + 2
    assert get(api, "/suppressions/new@example.com")["reason"] == "hard_bounce"


def test_a_complaint_from_an_address_that_is_no_contact_suppresses_it(api: Api) -> None:
    _, url = connect(api, "standard_webhooks", {"secrets": [SECRET]})

    signed_post(api, url, item("complained", "stranger@example.com", "2026-03-01T10:01:00Z", "e2"))

    assert get(api, "/suppressions/stranger@example.com")["reason"] == "complaint"
    # Preferences need a contact: none were started for the stranger's derived contact id.
    preferences = preferences_id(contact_id_for("stranger@example.com"))
    assert list(api.container.history.events.get(preferences)) == []
    assert get(api, "/contacts/{}/preferences".format(contact_id_for("stranger@example.com"))) is None


def postmark_record(name: str, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((POSTMARK / f"{name}.json").read_text())
    return {**record, **changes}


def test_postmark_unsubscribe_and_resubscribe_follow_the_newer_wins_rule(api: Api) -> None:
    _, url = connect(api, "postmark", {"basic_auth": POSTMARK_CREDS})
    john = contact(api, "john@example.com")
    auth = {"content-type": "application/json", **basic(**POSTMARK_CREDS)}

    def post(record: dict[str, Any]) -> None:
        response = api.client.post(url, content=json.dumps(record).encode(), headers=auth)
        assert response.status_code == 200, response.text

    post(postmark_record("subscription_change_unsubscribe"))
    assert get(api, f"/contacts/{john}/preferences")["opted_out"] is True

    # Postmark's sample resubscribe has the very instant of the unsubscribe: not newer, so ours stands.
    post(postmark_record("subscription_change_resubscribe"))
    assert get(api, f"/contacts/{john}/preferences")["opted_out"] is True

    post(postmark_record("subscription_change_resubscribe", ChangedAt="2022-06-05T18:00:00Z"))
    assert get(api, f"/contacts/{john}/preferences")["opted_out"] is False

    post(postmark_record("spam_complaint"))
    assert get(api, f"/contacts/{john}/preferences")["opted_out"] is True
    assert get(api, "/suppressions/john@example.com")["reason"] == "complaint"
