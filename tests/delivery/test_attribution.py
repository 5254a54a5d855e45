"""Webhook events find the campaign that sent the message: by our metadata, else by the provider's id."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from interfaces.bootstrap import Container
from interfaces.delivery.worker import DeliveryWorker
from interfaces.transports.capture import list_captured
from tests.delivery.scenario import every_contact, scheduled_campaign
from tests.interfaces.client import running

AUTH = {"Authorization": "Basic " + base64.b64encode(b"pm:pm-secret-1").decode(), "Content-Type": "application/json"}


def _event(record_type: str, message_id: str, recipient: str, metadata: dict[str, str] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"RecordType": record_type, "MessageID": message_id, "Recipient": recipient,
                            "ServerID": 1, "MessageStream": "broadcast"}  # fmt: skip
    if record_type == "Delivery":
        body["DeliveredAt"] = datetime.now(UTC).isoformat()
    else:
        body |= {"ReceivedAt": datetime.now(UTC).isoformat(), "FirstOpen": True, "Platform": "Desktop"}
    if metadata is not None:
        body["Metadata"] = metadata
    return body


def _activity(container: Container) -> list[dict[str, Any]]:
    # Leaving ``running`` stopped the background runner: catch up in the foreground.
    container.runner.catch_up_all()
    return container.db.query("SELECT contact_id, type, campaign_id FROM contact_activity ORDER BY type, contact_id")


def test_events_with_our_metadata_or_only_the_provider_id_are_attributed_to_the_campaign(live: Container) -> None:
    emails = ["ann@example.org", "bob@example.org"]
    scenario = scheduled_campaign(live, emails, datetime.now(UTC) - timedelta(seconds=1))
    asyncio.run(DeliveryWorker(live, every_contact).drain())
    captured = {c.to: c for c in list_captured(live.db, scenario.campaign_id)}
    ann, bob = captured["ann@example.org"], captured["bob@example.org"]
    metadata = {"tidings_message_id": str(ann.message_id), "tidings_campaign_id": str(scenario.campaign_id)}

    with running(live) as api:
        url = f"/webhooks/{scenario.connection_id}"
        # Ann's event carries our metadata; Bob's only the id the provider gave the message.
        for body in (_event("Delivery", "pm-1", ann.to, metadata),
                     _event("Delivery", bob.headers["X-Tidings-Message-Id"], bob.to, None),
                     _event("Open", "unknown-provider-id", bob.to, None)):  # fmt: skip
            response = api.client.post(url, content=json.dumps(body), headers=AUTH)
            assert response.status_code == 200, response.text

    rows = _activity(live)
    by = {(r["contact_id"], r["type"]): r["campaign_id"] for r in rows}
    assert by[(str(scenario.contacts[ann.to]), "delivered")] == str(scenario.campaign_id)
    assert by[(str(scenario.contacts[bob.to]), "delivered")] is None  # capture's provider id is our Message-ID
    assert by[(str(scenario.contacts[bob.to]), "opened")] is None


def test_an_event_naming_the_provider_id_a_run_recorded_is_attributed(live: Container) -> None:
    emails = ["cy@example.org"]
    scenario = scheduled_campaign(live, emails, datetime.now(UTC) - timedelta(seconds=1))
    asyncio.run(DeliveryWorker(live, every_contact).drain())
    [cy] = list_captured(live.db, scenario.campaign_id)
    provider_id = f"{cy.message_id}@example.com"  # capture reports <id@domain>; webhooks quote it bare

    with running(live) as api:
        body = _event("Delivery", provider_id, cy.to, None)
        response = api.client.post(f"/webhooks/{scenario.connection_id}", content=json.dumps(body), headers=AUTH)
        assert response.status_code == 200, response.text

    [row] = [r for r in _activity(live) if r["type"] == "delivered"]
    assert row["campaign_id"] == str(scenario.campaign_id)
