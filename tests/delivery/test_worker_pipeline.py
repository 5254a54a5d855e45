"""The worker's pipeline: the next batch is claimed and rendered while one is with the transport.

Over the real store and queue (SQLite and PostgreSQL): one result per message, each batch recorded once
under its own claim, never more than one batch handed over and unrecorded, a pause releasing the batch
rendered but not handed over, and a pass that ends when the throttle binds.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from domain.campaign_workflow import State
from domain.delivery_run import run_id
from interfaces.bootstrap import Container
from interfaces.delivery import queue
from interfaces.delivery.throttle import TokenBucket
from interfaces.delivery.worker import DeliveryWorker, WorkerSettings
from interfaces.transports.base import Outcome, OutgoingMessage, SendResult
from tests.delivery.scenario import every_contact, scheduled_campaign

EMAILS = [f"pipe{i:02d}@example.org" for i in range(18)]
BATCH = 4


class Watching:
    """A transport that takes its time and notes what the worker was doing meanwhile."""

    max_batch = BATCH

    def __init__(self, container: Container, run: UUID, outcome: Outcome = Outcome.SENT) -> None:
        self.container, self.run, self.outcome = container, run, outcome
        self.handed: list[UUID] = []
        self.sending = 0
        self.most_sending = 0
        self.in_flight_during_send: list[int] = []

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        self.sending += 1
        self.most_sending = max(self.most_sending, self.sending)
        self.handed += [m.message_id for m in messages]
        await asyncio.sleep(0.01)
        rows = queue.message_rows(self.container.db, self.run)
        self.in_flight_during_send.append(sum(1 for r in rows if r["status"] == "in_flight"))
        self.sending -= 1
        return [SendResult(m.message_id, self.outcome, f"p-{m.message_id}", reason="scripted") for m in messages]

    async def aclose(self) -> None:
        return None


def _frozen() -> float:
    return 0.0


def _setup(live: Container, **settings: object) -> tuple[UUID, UUID, WorkerSettings]:
    at = datetime.now(UTC) - timedelta(seconds=1)
    scenario = scheduled_campaign(live, EMAILS, at)
    return scenario.campaign_id, run_id(scenario.campaign_id, at), WorkerSettings(batch_size=BATCH, **settings)  # type: ignore[arg-type]


def test_one_pass_pipelines_every_batch_and_records_each_once_under_its_own_claim(live: Container) -> None:
    campaign_id, run, settings = _setup(live, pass_seconds=60.0)
    transport = Watching(live, run)
    worker = DeliveryWorker(live, every_contact, settings=settings,
                            transport_for=lambda _c: (transport, TokenBucket(10_000)))  # fmt: skip
    worker.start_due(datetime.now(UTC))

    handed = asyncio.run(worker.tick())

    assert handed == len(EMAILS)  # one pass took the whole run
    assert Counter(transport.handed) == Counter({m: 1 for m in transport.handed}) and len(transport.handed) == 18
    assert transport.most_sending == 1  # one batch with the transport at a time: at most one in doubt
    # While a batch was with the transport, the next one was already claimed (and rendered).
    assert max(transport.in_flight_during_send) == 2 * BATCH
    rows = queue.message_rows(live.db, run)
    assert {r["status"] for r in rows} == {"sent"} and all(r["attempts"] == 1 for r in rows)
    by_claim: dict[str, set[str]] = {}
    for r in rows:
        by_claim.setdefault(r["claim"], set()).add(r["message_id"])
    assert len(by_claim) == 5  # 18 messages in batches of 4
    for token, ids in by_claim.items():
        batch = live.deliveries.find_batch(UUID(token))
        assert batch is not None and {m for m, _ in batch.sent} == ids
        assert {p for _, p in batch.sent} == {f"p-{m}" for m in ids}
    asyncio.run(worker.drain())
    assert live.campaigns.get(campaign_id).state is State.SENT


def test_a_pause_releases_the_batch_rendered_but_not_handed_over(live: Container) -> None:
    campaign_id, run, settings = _setup(live, pass_seconds=60.0, pause_error_rate=0.5, pause_min_sample=BATCH)
    transport = Watching(live, run, Outcome.PERMANENT)
    worker = DeliveryWorker(live, every_contact, settings=settings,
                            transport_for=lambda _c: (transport, TokenBucket(10_000)))  # fmt: skip
    worker.start_due(datetime.now(UTC))

    asyncio.run(worker.tick())

    assert live.campaigns.get(campaign_id).state is State.PAUSED
    assert len(transport.handed) == BATCH  # the next batch was claimed and rendered, never handed over
    rows = queue.message_rows(live.db, run)
    assert Counter(r["status"] for r in rows) == {"failed": BATCH, "pending": len(EMAILS) - BATCH}
    assert all(r["claim"] is None and r["attempts"] == 0 for r in rows if r["status"] == "pending")


def test_a_pass_ends_when_the_throttle_binds(live: Container) -> None:
    _campaign_id, run, settings = _setup(live, pass_seconds=60.0)
    transport = Watching(live, run)
    bucket = TokenBucket(2 * BATCH, clock=_frozen)  # a burst of two batches, and no time passes
    worker = DeliveryWorker(live, every_contact, settings=settings, transport_for=lambda _c: (transport, bucket))
    worker.start_due(datetime.now(UTC))

    handed = asyncio.run(worker.tick())

    assert handed == 2 * BATCH and len(transport.handed) == 2 * BATCH
    assert Counter(r["status"] for r in queue.message_rows(live.db, run)) == {"sent": 8, "pending": 10}


def test_a_snapshot_larger_than_a_chunk_queues_everyone_once(live: Container) -> None:
    queue.create_tables(live.db)
    run, campaign, now = uuid4(), uuid4(), datetime.now(UTC)
    recipients = [(uuid4(), uuid4(), f"c{i}@example.org", now) for i in range(18)]

    queued = queue.snapshot(live.db, run_id=run, campaign_id=campaign, occurrence=now, recipients=iter(recipients),
                            now=now, chunk=5)  # fmt: skip

    assert queued == 18
    assert sorted(r["message_id"] for r in queue.message_rows(live.db, run)) == sorted(str(m) for m, *_ in recipients)
    [snapshot] = [r for r in queue.open_runs(live.db) if r.run_id == run]
    assert snapshot.audience == 18
