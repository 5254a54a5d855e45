"""A campaign delivered by the worker through the SES transport to the local, signature-checking SES (both backends)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from domain.delivery_run import message_id, run_id
from interfaces.bootstrap import Container
from interfaces.delivery import queue
from interfaces.delivery.worker import DeliveryWorker
from tests.delivery.scenario import every_contact, scheduled_campaign
from tests.transports.fake_ses import ACCESS_KEY_ID, REGION, SECRET, FakeSes, running

EMAILS = [f"person{i}@example.org" for i in range(4)]


@pytest.fixture
def fake() -> Iterator[FakeSes]:
    with running() as server:
        yield server


def test_a_campaign_reaches_ses_with_our_ids_and_records_ses_ids(live: Container, fake: FakeSes) -> None:
    fake.rejected.add(EMAILS[2])
    at = datetime.now(UTC) - timedelta(seconds=1)
    settings = {"region": REGION, "access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET, "base_url": fake.url}
    scenario = scheduled_campaign(live, EMAILS, at, transport="amazon_ses", settings=settings)
    worker = DeliveryWorker(live, every_contact)  # type: ignore[arg-type]

    asyncio.run(worker.drain())

    run = run_id(scenario.campaign_id, at)
    rows = {r["email"]: r for r in queue.message_rows(live.db, run)}
    accepted = {a["Destination"]["ToAddresses"][0]: a for a in fake.accepted}
    assert sorted(accepted) == sorted(e for e in EMAILS if e != EMAILS[2])
    for email, sent in accepted.items():
        ours = str(message_id(run, scenario.contacts[email]))
        assert {t["Name"]: t["Value"] for t in sent["EmailTags"]}["tidings_message_id"] == ours
        assert sent["mime"]["X-Tidings-Message-Id"] == ours
        assert sent["mime"]["List-Unsubscribe"].startswith("<http")
        assert (rows[email]["status"], rows[email]["provider_message_id"]) == ("sent", sent["MessageId"])
    assert rows[EMAILS[2]]["status"] == "failed"
    assert rows[EMAILS[2]]["reason"].startswith("SES MessageRejected")
