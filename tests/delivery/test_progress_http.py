"""Delivery progress over HTTP and its server-sent-events stream, with the real worker and capture outbox
(SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.delivery_run import run_id
from domain.events import caused_by
from interfaces.bootstrap import Container
from interfaces.delivery.worker import DeliveryWorker, WorkerSettings
from interfaces.http import campaign_progress
from interfaces.http.campaign_progress import progress, progress_events
from tests.delivery.scenario import APPROVER, every_contact, scheduled_campaign
from tests.interfaces.client import Api, bearer, error_of, running

EMAILS = [f"reader{i}@example.org" for i in range(5)]
ZERO = {"audience": 0, "sent": 0, "failed": 0, "skipped": 0, "pending": 0, "in_flight": 0, "remaining": 0}


@pytest.fixture
def api(container: Container) -> Iterator[Api]:
    """The app with projections running in-process (the worker reads the read models)."""
    with running(container) as api:
        yield api


def _worker(container: Container, batch_size: int = 100) -> DeliveryWorker:
    # One batch per pass (no pipelining within a pass), so a test can look at the run between batches.
    settings = WorkerSettings(batch_size=batch_size, pass_seconds=0.0)
    return DeliveryWorker(container, every_contact, settings=settings)  # type: ignore[arg-type]


def _progress(api: Api, campaign_id: UUID, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = api.client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=headers or api.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _events(text: str) -> list[dict[str, Any]]:
    """Parse a text/event-stream body into its events' fields (data decoded as JSON)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if fields:
            events.append({**fields, "data": json.loads(fields["data"])})
    return events


def test_a_campaign_not_started_has_zero_counts_and_no_runs(api: Api) -> None:
    scenario = scheduled_campaign(api.container, EMAILS, datetime.now(UTC) + timedelta(hours=1))
    body = _progress(api, scenario.campaign_id)
    assert body == {
        "campaign_id": str(scenario.campaign_id), "state": "scheduled", "runs": [], "totals": ZERO,
        "rate_per_second": 0.0, "eta_seconds": None,
    }  # fmt: skip


def test_an_unknown_campaign_is_404(api: Api) -> None:
    error_of(api.client.get(f"/api/v1/campaigns/{uuid4()}/progress", headers=api.admin), 404, "not_found")
    error_of(api.client.get(f"/api/v1/campaigns/{uuid4()}/progress/stream", headers=api.admin), 404, "not_found")


def test_mid_run_progress_counts_what_is_left_and_estimates_when_it_ends(api: Api) -> None:
    at = datetime.now(UTC) - timedelta(seconds=1)
    scenario = scheduled_campaign(api.container, EMAILS, at)
    asyncio.run(_worker(api.container, batch_size=2).tick())  # starts the run and hands over one batch

    body = _progress(api, scenario.campaign_id)

    assert body["state"] == "sending"
    [run] = body["runs"]
    assert run["run_id"] == str(run_id(scenario.campaign_id, at)) and run["occurrence"].startswith(
        at.date().isoformat()
    )
    assert (run["audience"], run["sent"], run["pending"], run["remaining"]) == (5, 2, 3, 3)
    assert run["outcome"] is None and run["finished"] is False
    assert body["totals"] == {**ZERO, "audience": 5, "sent": 2, "pending": 3, "remaining": 3}
    assert body["rate_per_second"] == pytest.approx(2 / 60, abs=1e-3)
    assert body["eta_seconds"] == pytest.approx(3 / (2 / 60), rel=0.01)


def test_a_finished_campaign_shows_its_totals_and_no_eta(api: Api) -> None:
    scenario = scheduled_campaign(api.container, EMAILS, datetime.now(UTC) - timedelta(seconds=1))
    asyncio.run(_worker(api.container, batch_size=2).drain())

    _, analyst = api.issue("analyst", name="analyst")
    body = _progress(api, scenario.campaign_id, bearer(analyst))  # any role reads progress

    assert body["state"] == "sent"
    [run] = body["runs"]
    assert run["outcome"] == "completed" and run["finished"] is True
    assert (run["sent"], run["remaining"]) == (5, 0)
    assert body["totals"] == {**ZERO, "audience": 5, "sent": 5}
    assert body["rate_per_second"] == pytest.approx(5 / 60, abs=1e-3)
    assert body["eta_seconds"] is None


def test_the_stream_of_a_sent_campaign_sends_one_event_and_ends(api: Api) -> None:
    scenario = scheduled_campaign(api.container, EMAILS[:2], datetime.now(UTC) - timedelta(seconds=1))
    asyncio.run(_worker(api.container).drain())

    response = api.client.get(f"/api/v1/campaigns/{scenario.campaign_id}/progress/stream?interval=0.1",
                              headers=api.admin)  # fmt: skip

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    [event] = _events(response.text)
    assert event["event"] == "progress" and event["id"] == "1"
    assert event["data"] == _progress(api, scenario.campaign_id)


def test_the_stream_of_a_cancelled_campaign_ends_after_one_event(api: Api) -> None:
    scenario = scheduled_campaign(api.container, EMAILS[:2], datetime.now(UTC) + timedelta(hours=1))
    with caused_by(APPROVER):
        api.container.campaigns.cancel(scenario.campaign_id, "not this week")

    response = api.client.get(f"/api/v1/campaigns/{scenario.campaign_id}/progress/stream", headers=api.admin)

    [event] = _events(response.text)
    assert event["data"]["state"] == "cancelled" and event["data"]["runs"] == []


def test_the_stream_follows_a_send_until_the_campaign_is_sent(api: Api) -> None:
    scenario = scheduled_campaign(api.container, EMAILS, datetime.now(UTC) - timedelta(seconds=1))
    worker = _worker(api.container, batch_size=1)
    thread = threading.Thread(target=lambda: asyncio.run(worker.drain()))
    thread.start()
    try:
        with api.client.stream("GET", f"/api/v1/campaigns/{scenario.campaign_id}/progress/stream",
                               params={"interval": 0.1}, headers=api.admin) as response:  # fmt: skip
            text = response.read().decode()
    finally:
        thread.join(30)

    events = _events(text)
    assert [e["id"] for e in events] == [str(n) for n in range(1, len(events) + 1)]
    assert all(e["event"] == "progress" for e in events)
    assert all(e["data"]["state"] in {"scheduled", "sending"} for e in events[:-1])
    last = events[-1]["data"]
    assert last["state"] == "sent" and last["totals"]["sent"] == 5 and last["eta_seconds"] is None


def test_the_stream_sends_each_change_until_the_end(api: Api) -> None:
    """Driven step by step: paused, then resumed and drained; the stream's last event is the sent campaign."""
    container = api.container
    scenario = scheduled_campaign(container, EMAILS, datetime.now(UTC) - timedelta(seconds=1))
    worker = _worker(container, batch_size=2)
    asyncio.run(worker.tick())
    with caused_by(APPROVER):
        container.campaigns.pause(scenario.campaign_id, "hold on")

    async def follow() -> list[dict[str, Any]]:
        seen = []
        first = progress(container, scenario.campaign_id)
        async for message in progress_events(container, scenario.campaign_id, first, 0.1):
            seen.append(json.loads(str(message.data)))
            if len(seen) == 2:
                with caused_by(APPROVER):
                    container.campaigns.resume(scenario.campaign_id, "go on")
                await worker.drain()
        return seen

    seen = asyncio.run(follow())

    assert [s["state"] for s in seen[:2]] == ["paused", "paused"]
    assert seen[0]["totals"]["sent"] == 2 and seen[0]["eta_seconds"] is not None
    assert seen[-1]["state"] == "sent" and seen[-1]["totals"]["sent"] == 5
    assert seen[-1]["runs"][0]["outcome"] == "completed"


def test_the_stream_ends_after_its_maximum_duration(api: Api) -> None:
    container = api.container
    scenario = scheduled_campaign(container, EMAILS[:1], datetime.now(UTC) + timedelta(hours=1))

    async def follow() -> list[dict[str, Any]]:
        first = progress(container, scenario.campaign_id)
        events = progress_events(container, scenario.campaign_id, first, 0.1, max_seconds=0.35)
        return [json.loads(str(m.data)) async for m in events]

    seen = asyncio.run(follow())

    assert 2 <= len(seen) <= 6
    assert {s["state"] for s in seen} == {"scheduled"}
    assert campaign_progress.MAX_STREAM_SECONDS == 3600.0  # the HTTP stream's limit: an hour


@pytest.mark.parametrize("interval", ["0.05", "11", "soon"])
def test_an_interval_out_of_bounds_is_400(api: Api, interval: str) -> None:
    scenario = scheduled_campaign(api.container, EMAILS[:1], datetime.now(UTC) + timedelta(hours=1))
    response = api.client.get(f"/api/v1/campaigns/{scenario.campaign_id}/progress/stream",
                              params={"interval": interval}, headers=api.admin)  # fmt: skip
    details = error_of(response, 400, "bad_request")
    assert details["fields"]
