"""Issue 7 end to end over HTTP: import, tag, segment, write, approve, send over SMTP, webhooks back, the report.

Everything an endpoint exists for goes through the API; the delivery worker runs in-process against a real
aiosmtpd server whose ``queued as QUEUE{n}`` replies become the provider's message ids. Postmark's webhooks
then come back the way they would behind a plain SMTP relay (no metadata: attributed by that queue id) or
carrying our metadata, and the campaign report shows both attributed to the campaign.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import replace
from datetime import UTC, datetime
from email.header import decode_header, make_header
from typing import Any

import pytest

from domain.email_address import contact_id_for
from interfaces.bootstrap import Container
from interfaces.config import Settings
from interfaces.delivery.targeting import campaign_audience
from interfaces.delivery.worker import DeliveryWorker
from interfaces.transports import smtp
from interfaces.transports.base import Outcome
from tests.interfaces.client import Api, bearer, running
from tests.transports.fake_smtp import Received, ScriptedHandler, smtp_server
from tests.transports.messages import message

API = "/api/v1"
PEOPLE = ["ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal", "ivy", "jo"]
ZONES = ["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC", "Europe/Berlin"]
GARDENERS = {"ann": "interests/garden/roses", "bob": "interests/garden/roses", "cy": "interests/garden/herbs",
             "dee": "interests/garden", "eve": "interests/garden/herbs", "fay": "interests/garden/roses"}  # fmt: skip
PUBLIC_URL = "https://mail.example.com"
HOOK = {"username": "pm-hook", "password": "pm-hook-secret-1"}
HTML = (
    '<p>Hello {{ contact.attributes.first_name | default: "friend" }},</p><p>The roses are out.</p>'
    '<a href="{{ unsubscribe_url }}">Unsubscribe</a>'
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The backend's settings behind an HTTPS public URL: only HTTPS links get one-click unsubscribe (RFC 8058)."""
    return replace(settings, public_url=PUBLIC_URL)


def email(name: str) -> str:
    return f"{name}@example.org"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def settled(api: Api) -> None:
    # Reactions (segment membership, policies) append events while read models settle: wait for a still head.
    while True:
        head = api.container.store.head()
        assert api.container.settle()
        if api.container.store.head() == head:
            return


def imported(api: Api) -> None:
    rows = [f"{email(n)},{ZONES[i % len(ZONES)]},{n.title()}" for i, n in enumerate(PEOPLE)]
    body = "email,timezone,first_name\n" + "\n".join(rows) + "\n"
    headers = {**api.admin, "Content-Type": "text/csv"}
    job = ok(api.client.post(f"{API}/contacts/imports", content=body.encode(), headers=headers), 202)
    for _ in range(400):  # the import runs on a thread of the app: wait (bounded) for its end state
        job = ok(api.client.get(f"{API}/contacts/imports/{job['id']}", headers=api.admin))
        if job["status"] != "running":
            break
        time.sleep(0.025)
    assert (job["status"], job["created"], job["rejected"]) == ("completed", len(PEOPLE), 0)


def connection(api: Api, port: int) -> dict[str, Any]:
    smtp = {"host": "127.0.0.1", "port": port, "security": "none", "concurrency": 2}
    sending = {"domains": ["example.com"], "rate_per_second": 100, "transport": "smtp", "transport_settings": smtp}
    body = {"name": "Postmark relay", "provider": "postmark", "webhook": {"basic_auth": HOOK}, "sending": sending}
    return dict(ok(api.client.post(f"{API}/esp-connections", json=body, headers=api.admin), 201))


def approved_campaign(api: Api, connection_id: str, segment_id: str) -> str:
    editor, approver = (bearer(api.issue(role, name=role)[1]) for role in ("editor", "approver"))
    body = {"name": "Roses", "category": "news", "esp_connection_id": connection_id, "include_segments": [segment_id],
            "from_name": "Garden club", "from_address": "club@example.com",
            "subject": "Roses for {{ contact.attributes.first_name }}", "html": HTML}  # fmt: skip
    campaign_id = str(ok(api.client.post(f"{API}/campaigns", json=body, headers=editor), 201)["id"])
    ok(api.client.post(f"{API}/campaigns/{campaign_id}/submit", headers=editor))
    ok(api.client.post(f"{API}/campaigns/{campaign_id}/approve", json={"version": 1}, headers=approver))
    settled(api)
    scheduled = ok(api.client.post(f"{API}/campaigns/{campaign_id}/schedule", json={"kind": "now"}, headers=editor))
    assert scheduled["state"] == "scheduled"
    return campaign_id


def deliver(container: Container) -> None:
    async def drain() -> None:
        worker = DeliveryWorker(container, campaign_audience)
        try:
            await worker.drain()
        finally:
            await worker.aclose()

    asyncio.run(drain())


def postmark(record_type: str, message_id: str, recipient: str, metadata: dict[str, str] | None) -> dict[str, Any]:
    at = datetime.now(UTC).isoformat()
    body: dict[str, Any] = {"RecordType": record_type, "MessageID": message_id, "Recipient": recipient,
                            "ServerID": 1, "MessageStream": "broadcast"}  # fmt: skip
    if record_type == "Delivery":
        body |= {"DeliveredAt": at, "Details": "Test delivery"}
    elif record_type == "SubscriptionChange":
        body |= {"ChangedAt": at, "Origin": "Recipient", "SuppressSending": True,
                 "SuppressionReason": "ManualSuppression"}  # fmt: skip
    else:
        body |= {"ReceivedAt": at, "Platform": "Desktop", "UserAgent": "Mozilla/5.0"}
        body |= {"FirstOpen": True} if record_type == "Open" else {"OriginalLink": "https://example.com/roses"}
    if metadata is not None:
        body["Metadata"] = metadata
    return body


def post_webhook(api: Api, url: str, record: dict[str, Any]) -> None:
    auth = base64.b64encode(f"{HOOK['username']}:{HOOK['password']}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/json"}
    ok(api.client.post(url, content=json.dumps(record).encode(), headers=headers))


def by_recipient(handler: ScriptedHandler) -> dict[str, tuple[Received, str]]:
    # The server's n-th accepted DATA answered "queued as QUEUE{n}": that is each message's provider id.
    return {r.recipients[0]: (r, f"QUEUE{n}") for n, r in enumerate(handler.received, start=1)}


def test_imported_tagged_contacts_get_the_campaign_over_smtp_and_their_events_come_back_to_it(
    container: Container,
) -> None:
    handler = ScriptedHandler()
    with smtp_server(handler) as server, running(container) as api:
        imported(api)
        for name, tag in GARDENERS.items():
            ok(api.client.post(f"{API}/contacts/{contact_id_for(email(name))}/tags", json={"add": [tag]},
                               headers=api.admin))  # fmt: skip
        segment = {"name": "Gardeners", "definition": {"tag": "interests/garden"}}
        segment_id = ok(api.client.post(f"{API}/segments", json=segment, headers=api.admin), 201)["id"]
        category = {"key": "news", "name": "News"}
        ok(api.client.post(f"{API}/preference-categories", json=category, headers=api.admin), 201)
        esp = connection(api, server.port)
        settled(api)
        campaign_id = approved_campaign(api, esp["id"], segment_id)

        deliver(container)
        settled(api)

        # Exactly the tagged contacts, one message each, personalised, with the unsubscribe and id headers.
        received = by_recipient(handler)
        assert len(handler.received) == len(GARDENERS)
        assert sorted(received) == sorted(email(n) for n in GARDENERS)
        assert all(len(r.recipients) == 1 for r in handler.received)
        for name in GARDENERS:
            mail = received[email(name)][0].message
            assert mail["Subject"] == f"Roses for {name.title()}"
            assert f"Hello {name.title()}," in _html(mail)
            assert mail["List-Unsubscribe"].startswith(f"<{PUBLIC_URL}/u/")  # a bare URI, not encoded-words
            assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert mail["X-Tidings-Message-Id"]
        assert not {email(n) for n in PEOPLE if n not in GARDENERS} & set(received)
        # The run recorded the server's queue id as each message's provider id: what the webhooks will name.
        sent = "SELECT message_id, provider_message_id FROM sent_messages WHERE campaign_id = ?"
        provider_ids = {r["message_id"]: r["provider_message_id"] for r in container.db.query(sent, (campaign_id,))}
        assert provider_ids == {r.message["X-Tidings-Message-Id"]: q for r, q in received.values()}
        analyst = bearer(api.issue("analyst", name="analyst")[1])
        report = ok(api.client.get(f"{API}/campaigns/{campaign_id}/report", headers=analyst))
        assert (report["sent"], report["events"]["delivered"], report["rates"]["delivered"]) == (6, 0, 0.0)

        # Half the events come as a plain relay leaves them (the queue id only), half with our metadata.
        ours = {"tidings_campaign_id": campaign_id}
        names = list(GARDENERS)
        metadata = {name: (ours if i % 2 else None) for i, name in enumerate(names)}
        for name in names:
            _, queue_id = received[email(name)]
            post_webhook(api, esp["webhook_url"], postmark("Delivery", queue_id, email(name), metadata[name]))
        for name in ("ann", "bob", "cy"):  # ann twice: one reader however many opens
            _, queue_id = received[email(name)]
            post_webhook(api, esp["webhook_url"], postmark("Open", queue_id, email(name), metadata[name]))
        post_webhook(api, esp["webhook_url"], postmark("Open", received[email("ann")][1], email("ann"), ours))
        post_webhook(api, esp["webhook_url"], postmark("Click", received[email("bob")][1], email("bob"), None))
        settled(api)

        report = ok(api.client.get(f"{API}/campaigns/{campaign_id}/report", headers=api.admin))
        assert report["campaign_id"] == campaign_id
        assert report["sent"] == 6
        expected = {"delivered": 6, "opened": 3, "clicked": 1, "bounced": 0, "complained": 0, "unsubscribed": 0}
        assert {k: report["events"][k] for k in expected} == expected
        assert report["rates"] == {"delivered": 1.0, "opened": 0.5, "clicked": round(1 / 6, 4)}
        rows = container.db.query("SELECT contact_id, type, campaign_id FROM contact_activity")
        assert {r["campaign_id"] for r in rows} == {campaign_id}
        assert {r["contact_id"] for r in rows} == {str(contact_id_for(email(n))) for n in GARDENERS}

        # The loop closes: a recipient who unsubscribes at the ESP is opted out here, and the report counts it.
        bob = contact_id_for(email("bob"))
        assert ok(api.client.get(f"{API}/contacts/{bob}/preferences", headers=api.admin))["opted_out"] is False
        change = postmark("SubscriptionChange", received[email("bob")][1], email("bob"), None)
        post_webhook(api, esp["webhook_url"], change)
        settled(api)
        assert ok(api.client.get(f"{API}/contacts/{bob}/preferences", headers=api.admin))["opted_out"] is True
        report = ok(api.client.get(f"{API}/campaigns/{campaign_id}/report", headers=api.admin))
        assert report["events"]["unsubscribed"] == 1


def test_the_report_of_an_unknown_campaign_is_404_and_an_unsent_one_has_no_rates(container: Container) -> None:
    with running(container) as api:
        unknown = api.client.get(f"{API}/campaigns/{contact_id_for('nobody@example.org')}/report", headers=api.admin)
        assert unknown.status_code == 404, unknown.text
        assert unknown.json()["error"]["code"] == "not_found"

        ok(
            api.client.post(f"{API}/preference-categories", json={"key": "news", "name": "News"}, headers=api.admin),
            201,
        )
        esp = connection(api, 2525)
        segment = {"name": "Everyone", "definition": {"attribute": "first_name", "op": "exists"}}
        segment_id = ok(api.client.post(f"{API}/segments", json=segment, headers=api.admin), 201)["id"]
        body = {"name": "Draft", "category": "news", "esp_connection_id": esp["id"], "include_segments": [segment_id],
                "from_address": "club@example.com", "subject": "Soon", "html": HTML}  # fmt: skip
        draft = ok(api.client.post(f"{API}/campaigns", json=body, headers=api.admin), 201)["id"]

        report = ok(api.client.get(f"{API}/campaigns/{draft}/report", headers=api.admin))
        assert report == {
            "campaign_id": draft, "sent": 0,
            "events": {"delivered": 0, "opened": 0, "clicked": 0, "bounced": 0, "complained": 0, "unsubscribed": 0},
            "rates": {"delivered": None, "opened": None, "clicked": None},
        }  # fmt: skip


LONG_TOKEN = "WzEsImsxIiwiZmI0MDkxYTItNzU5Yy01M2U2LTk3MWYtM2JjMDFm" * 4  # as long as a real signed token


async def test_a_long_list_unsubscribe_uri_reaches_the_smtp_server_as_a_bare_uri() -> None:
    handler = ScriptedHandler()
    sent = message("ada@example.org")
    headers = {**sent.headers, "List-Unsubscribe": f"<https://t.example.com/u/{LONG_TOKEN}>"}
    with smtp_server(handler) as server:
        transport = smtp.create(smtp.Settings(host="127.0.0.1", port=server.port, security="none", timeout=5))
        [result] = await transport.send([replace(sent, headers=headers)])
        await transport.aclose()

    assert result.outcome is Outcome.SENT
    [received] = handler.received
    raw = str(received.message["List-Unsubscribe"])
    assert "=?" not in raw
    assert "".join(raw.split()) == headers["List-Unsubscribe"]


def _decoded(value: str) -> str:
    return str(make_header(decode_header(value)))


def _html(message: Any) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return str(part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8"))
    raise AssertionError("no HTML part")
