"""The delivery worker over the real store and the capture outbox (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from domain.campaign_workflow import State
from domain.delivery_run import DeliveryBatch, message_id, run_id
from domain.preference_sources import Source
from interfaces.bootstrap import Container
from interfaces.delivery import queue
from interfaces.delivery.throttle import TokenBucket
from interfaces.delivery.worker import DeliveryWorker, WorkerSettings
from interfaces.transports.base import Outcome, OutgoingMessage, SendResult
from interfaces.transports.capture import list_captured
from tests.delivery.scenario import every_contact, scheduled_campaign

EMAILS = [f"person{i}@example.org" for i in range(7)]


def _worker(container: Container, **kwargs: object) -> DeliveryWorker:
    return DeliveryWorker(container, every_contact, **kwargs)  # type: ignore[arg-type]


def test_a_due_campaign_is_sent_to_every_contact_once_and_marked_sent(live: Container) -> None:
    at = datetime.now(UTC) - timedelta(seconds=1)
    scenario = scheduled_campaign(live, EMAILS, at)
    worker = _worker(live, settings=WorkerSettings(batch_size=3))

    asyncio.run(worker.drain())

    captured = list_captured(live.db, scenario.campaign_id, limit=100)
    assert sorted(c.to for c in captured) == sorted(EMAILS)
    run = run_id(scenario.campaign_id, at)
    assert {c.message_id for c in captured} == {message_id(run, cid) for cid in scenario.contacts.values()}
    assert all(c.attempts == 1 for c in captured)
    first = next(c for c in captured if c.to == EMAILS[0])
    assert first.subject == "Hi N0" and "Hello N0" in first.html and "Hello N0" in first.text
    assert first.headers["X-Tidings-Message-Id"] == str(first.message_id)
    assert first.headers["List-Unsubscribe"].startswith("<http")
    assert live.campaigns.get(scenario.campaign_id).state is State.SENT
    finished = live.deliveries.find_run(run)
    assert finished is not None and finished.totals == {"sent": 7, "failed": 0, "skipped": 0}


def test_nothing_is_sent_before_the_scheduled_time(live: Container) -> None:
    scenario = scheduled_campaign(live, EMAILS[:2], datetime.now(UTC) + timedelta(hours=1))
    asyncio.run(_worker(live).drain())
    assert list_captured(live.db, scenario.campaign_id) == []
    assert live.campaigns.get(scenario.campaign_id).state is State.SCHEDULED


def test_a_contact_who_opts_out_after_scheduling_gets_nothing(live: Container) -> None:
    scenario = scheduled_campaign(live, EMAILS[:3], datetime.now(UTC) - timedelta(seconds=1))
    worker = _worker(live)
    worker.start_due(datetime.now(UTC))  # the snapshot holds all three
    live.preferences.opt_out(scenario.contacts[EMAILS[1]], Source.CONTACT)
    live.settle()

    asyncio.run(worker.drain())

    assert sorted(c.to for c in list_captured(live.db, scenario.campaign_id)) == [EMAILS[0], EMAILS[2]]
    [row] = [r for r in queue.message_rows(live.db, run_id(scenario.campaign_id, _at(live, scenario)))
             if r["email"] == EMAILS[1]]  # fmt: skip
    assert row["status"] == "skipped" and row["reason"] == "ineligible: opted_out"


def _at(container: Container, scenario: object) -> datetime:
    at = container.campaigns.get(scenario.campaign_id).scheduled_at  # type: ignore[attr-defined]
    assert at is not None
    return at


class Scripted:
    """A transport answering from a script: per address, the outcomes of successive hand-overs."""

    max_batch = 10

    def __init__(self, script: dict[str, list[Outcome]]) -> None:
        self.script = script
        self.handed: list[str] = []

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        results = []
        for m in messages:
            self.handed.append(m.to)
            steps = self.script.get(m.to, [])
            outcome = steps.pop(0) if steps else Outcome.SENT
            results.append(SendResult(m.message_id, outcome, f"id-{m.to}", reason=f"{outcome.value} by script"))
        return results

    async def aclose(self) -> None:
        return None


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_transient_failures_are_retried_after_a_backoff_and_permanent_ones_are_recorded(live: Container) -> None:
    clock = Clock(datetime.now(UTC))
    scenario = scheduled_campaign(live, EMAILS[:3], clock.now - timedelta(seconds=1))
    script = Scripted({EMAILS[0]: [Outcome.TRANSIENT, Outcome.TRANSIENT], EMAILS[1]: [Outcome.PERMANENT]})
    worker = _worker(live, clock=clock, transport_for=lambda _c: (script, TokenBucket(1000)))

    asyncio.run(worker.drain())
    assert script.handed.count(EMAILS[0]) == 1  # waiting for its backoff
    for _ in range(2):
        clock.now += timedelta(hours=2)
        asyncio.run(worker.drain())

    assert script.handed.count(EMAILS[0]) == 3 and script.handed.count(EMAILS[1]) == 1
    run = run_id(scenario.campaign_id, clock.now.replace() and _at(live, scenario))
    rows = {r["email"]: r for r in queue.message_rows(live.db, run)}
    assert rows[EMAILS[0]]["status"] == "sent" and rows[EMAILS[0]]["attempts"] == 3
    assert rows[EMAILS[1]]["status"] == "failed" and rows[EMAILS[1]]["reason"] == "permanent by script"
    assert rows[EMAILS[2]]["status"] == "sent" and rows[EMAILS[2]]["provider_message_id"] == f"id-{EMAILS[2]}"
    assert live.campaigns.get(scenario.campaign_id).state is State.SENT


def test_a_failing_run_pauses_its_campaign(live: Container) -> None:
    emails = [f"p{i}@example.org" for i in range(12)]
    scenario = scheduled_campaign(live, emails, datetime.now(UTC) - timedelta(seconds=1))
    script = Scripted({e: [Outcome.PERMANENT] for e in emails})
    settings = WorkerSettings(batch_size=5, pause_error_rate=0.5, pause_min_sample=5)
    worker = _worker(live, settings=settings, transport_for=lambda _c: (script, TokenBucket(1000)))

    asyncio.run(worker.drain())

    campaign = live.campaigns.get(scenario.campaign_id)
    assert campaign.state is State.PAUSED
    assert len(script.handed) == 5  # one batch, then the pause held the rest


def test_a_batch_recorded_before_a_crash_is_applied_not_resent(live: Container) -> None:
    clock = Clock(datetime.now(UTC))
    scenario = scheduled_campaign(live, EMAILS[:2], clock.now - timedelta(seconds=1))
    worker = _worker(live, clock=clock)
    worker.start_due(clock.now)
    run = run_id(scenario.campaign_id, _at(live, scenario))
    token = UUID(int=42)
    claimed = queue.claim(live.db, run, token, now=clock.now, lease_until=clock.now + timedelta(minutes=5), limit=10)
    # The worker handed these over and recorded the outcome, then died before updating the queue.
    live.deliveries.record_batch(token=token, run=run, attempt_at=clock.now,
                                      sent=[(q.message_id, "sent-before-crash") for q in claimed])  # fmt: skip

    clock.now += timedelta(minutes=10)
    asyncio.run(worker.drain())

    assert list_captured(live.db, scenario.campaign_id) == []  # nothing handed over again
    rows = queue.message_rows(live.db, run)
    assert {r["status"] for r in rows} == {"sent"} and {r["provider_message_id"] for r in rows} == {"sent-before-crash"}
    assert isinstance(live.deliveries.find_batch(token), DeliveryBatch)


def test_an_unrecorded_batch_is_handed_over_again_with_the_same_message_ids(live: Container) -> None:
    clock = Clock(datetime.now(UTC))
    scenario = scheduled_campaign(live, EMAILS[:2], clock.now - timedelta(seconds=1))
    worker = _worker(live, clock=clock)
    worker.start_due(clock.now)
    run = run_id(scenario.campaign_id, _at(live, scenario))
    queue.claim(live.db, run, UUID(int=7), now=clock.now, lease_until=clock.now + timedelta(minutes=5), limit=10)

    asyncio.run(worker.drain())
    assert list_captured(live.db, scenario.campaign_id) == []  # leased: not touched

    clock.now += timedelta(minutes=10)
    asyncio.run(worker.drain())
    captured = list_captured(live.db, scenario.campaign_id)
    assert {c.message_id for c in captured} == {message_id(run, cid) for cid in scenario.contacts.values()}


@pytest.mark.parametrize("state", ["cancel"])
def test_cancelling_a_sending_campaign_skips_what_is_left(live: Container, state: str) -> None:
    scenario = scheduled_campaign(live, EMAILS, datetime.now(UTC) - timedelta(seconds=1))
    worker = _worker(live, settings=WorkerSettings(batch_size=2))
    worker.start_due(datetime.now(UTC))
    getattr(live.campaigns, state)(scenario.campaign_id, "stop it")

    asyncio.run(worker.drain())

    assert list_captured(live.db, scenario.campaign_id) == []
    run = live.deliveries.find_run(run_id(scenario.campaign_id, _at(live, scenario)))
    assert run is not None and run.outcome == "cancelled" and run.totals["skipped"] == len(EMAILS)
