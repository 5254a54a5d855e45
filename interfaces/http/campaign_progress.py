"""Delivery progress: ``GET /api/v1/campaigns/{id}/progress`` and its live server-sent-events stream.

Counts come from the delivery queue (the worker's working set, current to the last applied batch); the
campaign's state and each finished run's outcome come from the store. The stream sends the same JSON as an
``event: progress`` every ``interval`` seconds while the campaign can still change (scheduled, sending,
paused), then one last event when it is sent or cancelled, and ends. It also ends after ``MAX_STREAM_SECONDS``
so a forgotten tab does not hold a connection (and a database poll) forever; EventSource reconnects by itself.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from domain.campaign_workflow import State
from interfaces.bootstrap import Container
from interfaces.delivery import queue
from interfaces.http.auth import ANY_ROLE
from interfaces.http.errors import documented
from interfaces.http.schemas.campaign_progress import CountsOut, ProgressOut, RunProgress
from projections.db import Database

RATE_WINDOW = timedelta(seconds=60)
MAX_STREAM_SECONDS = 3600.0
LIVE_STATES = frozenset({State.SCHEDULED, State.SENDING, State.PAUSED})
Interval = Annotated[float, Parameter(ge=0.1, le=10.0, description="seconds between events")]

# An API process may run without a worker (``delivery`` not inline): the queue tables exist either way.
_ready: weakref.WeakSet[Database] = weakref.WeakSet()


def _queue_tables(db: Database) -> None:
    if db not in _ready:
        queue.create_tables(db)
        _ready.add(db)


def _run(container: Container, row: queue.RunRow, settled: dict[UUID, RunProgress]) -> RunProgress:
    if row.run_id in settled:
        return settled[row.run_id]
    c = queue.counts(container.db, run_id=row.run_id)
    found = container.deliveries.find_run(row.run_id) if row.finished else None
    run = RunProgress(row.run_id, row.occurrence, row.audience, c.sent, c.failed, c.skipped, c.pending, c.in_flight,
                      c.remaining, found.outcome if found else None, row.finished)  # fmt: skip
    if row.finished:
        settled[row.run_id] = run  # a closed run no longer changes: the stream reads it once
    return run


def progress(container: Container, campaign_id: UUID, settled: dict[UUID, RunProgress] | None = None) -> ProgressOut:
    """The campaign's delivery progress now (``NotFound`` for an unknown campaign).

    ``settled`` caches closed runs between calls of one stream.
    """
    campaign = container.campaigns.get(campaign_id)
    db = container.db
    _queue_tables(db)
    runs = [_run(container, row, {} if settled is None else settled) for row in queue.runs_of(db, campaign_id)]
    c = queue.counts(db, campaign_id=campaign_id)
    totals = CountsOut(sum(r.audience for r in runs), c.sent, c.failed, c.skipped, c.pending, c.in_flight, c.remaining)
    rate = queue.settled_since(db, campaign_id, datetime.now(UTC) - RATE_WINDOW) / RATE_WINDOW.total_seconds()
    eta = round(c.remaining / rate, 1) if rate > 0 and c.remaining > 0 else None
    return ProgressOut(campaign_id, campaign.state.value, runs, totals, round(rate, 3), eta)


def _message(body: ProgressOut, number: int) -> ServerSentEventMessage:
    return ServerSentEventMessage(data=msgspec.json.encode(body).decode(), event="progress", id=number)


async def progress_events(
    container: Container, campaign_id: UUID, first: ProgressOut, interval: float, *,
    settled: dict[UUID, RunProgress] | None = None, max_seconds: float = MAX_STREAM_SECONDS,
) -> AsyncIterator[ServerSentEventMessage]:  # fmt: skip
    """``first``, then a fresh progress every ``interval`` seconds while the campaign can change, the last one
    showing it sent or cancelled (or whatever it was when ``max_seconds`` ran out)."""
    settled = {} if settled is None else settled
    deadline = time.monotonic() + max_seconds
    current, number = first, 1
    yield _message(current, number)
    while State(current.state) in LIVE_STATES and time.monotonic() < deadline:
        await asyncio.sleep(interval)
        current = await asyncio.to_thread(progress, container, campaign_id, settled)
        number += 1
        yield _message(current, number)


class CampaignProgressController(Controller):
    """How far a campaign's delivery has got (any role)."""

    path = "/campaigns/{campaign_id:uuid}/progress"
    tags = ["campaigns"]
    guards = [ANY_ROLE]

    @get("/", operation_id="getCampaignProgress", sync_to_thread=True, responses=documented(400, 401, 403, 404, 429))
    def read(self, campaign_id: FromPath[UUID], container: NamedDependency[Container]) -> ProgressOut:
        """Sent, failed, skipped and remaining messages per run and in total, the recent rate and an ETA."""
        return progress(container, campaign_id)

    @get("/stream", operation_id="streamCampaignProgress", responses=documented(400, 401, 403, 404, 429))
    async def stream(
        self, campaign_id: FromPath[UUID], container: NamedDependency[Container], interval: FromQuery[Interval] = 1.0
    ) -> ServerSentEvent:
        """``text/event-stream`` of ``progress`` events (the JSON of the progress endpoint) until the campaign is
        sent or cancelled, or an hour has passed."""
        settled: dict[UUID, RunProgress] = {}
        first = await asyncio.to_thread(progress, container, campaign_id, settled)  # 404 before the stream opens
        return ServerSentEvent(progress_events(container, campaign_id, first, interval, settled=settled))
