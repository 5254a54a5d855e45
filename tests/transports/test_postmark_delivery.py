"""A campaign delivered by the worker through the Postmark transport to the local Postmark (both backends)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from domain.delivery_run import message_id, run_id
from interfaces.bootstrap import Container
from interfaces.delivery import queue
from interfaces.delivery.worker import DeliveryWorker, WorkerSettings
from tests.delivery.scenario import every_contact, scheduled_campaign
from tests.transports.fake_postmark import TOKEN, FakePostmark, running

EMAILS = [f"person{i}@example.org" for i in range(5)]


@pytest.fixture
def fake() -> Iterator[FakePostmark]:
    with running() as server:
        yield server


def test_a_campaign_reaches_postmark_with_our_ids_and_records_postmarks(live: Container, fake: FakePostmark) -> None:
    fake.inactive.add(EMAILS[3])
    at = datetime.now(UTC) - timedelta(seconds=1)
    scenario = scheduled_campaign(
        live, EMAILS, at, transport="postmark", settings={"server_token": TOKEN, "base_url": fake.url}
    )
    worker = DeliveryWorker(live, every_contact, settings=WorkerSettings(batch_size=2))  # type: ignore[arg-type]

    asyncio.run(worker.drain())

    run = run_id(scenario.campaign_id, at)
    rows = {r["email"]: r for r in queue.message_rows(live.db, run)}
    accepted = {a["To"]: a for a in fake.accepted}
    assert sorted(accepted) == sorted(e for e in EMAILS if e != EMAILS[3])
    for email, sent in accepted.items():
        ours = str(message_id(run, scenario.contacts[email]))
        assert sent["Metadata"]["tidings_message_id"] == ours
        assert sent["Metadata"]["tidings_campaign_id"] == str(scenario.campaign_id)
        headers = {h["Name"]: h["Value"] for h in sent["Headers"]}
        assert headers["X-Tidings-Message-Id"] == ours
        assert headers["List-Unsubscribe"].startswith("<http")
        assert (rows[email]["status"], rows[email]["provider_message_id"]) == ("sent", sent["MessageID"])
    assert rows[EMAILS[3]]["status"] == "failed"
    assert rows[EMAILS[3]]["reason"].startswith("Postmark 406:")
    assert max(fake.batch_sizes) <= 2
