"""SIGKILL `tidings serve` repeatedly under webhook load: every acknowledged event is stored exactly once."""

from __future__ import annotations

import base64
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from interfaces.bootstrap import build
from interfaces.config import Settings
from projections.email_events import EmailEventFilter, list_events
from tests.interfaces.test_crash import Server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
AUTH = "Basic " + base64.b64encode(b"pm:crash-test").decode()


def _record(i: int) -> dict[str, object]:
    return {
        "RecordType": "Delivery",
        "MessageID": f"msg-{i}",
        "Recipient": f"r{i}@example.com",
        "DeliveredAt": "2026-11-28T10:00:00.1234567Z",
        "Metadata": {},
    }


def _load(url: str, numbers: range, acked: list[int], stop: threading.Event) -> None:
    def send(i: int) -> None:
        if stop.is_set():
            return
        headers = {"Authorization": AUTH, "Content-Type": "application/json"}
        try:
            # Each event is posted twice: an ESP retry that races the first copy.
            for _ in range(2):
                response = httpx.post(url, json=_record(i), headers=headers, timeout=10)
                if response.status_code == 200:
                    acked.append(i)
        except httpx.HTTPError:
            return

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(send, numbers))


def test_acknowledged_webhooks_survive_repeated_kills_exactly_once(pg_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=pg_url)
    server = Server(settings)
    token = server.bootstrap_key()
    admin = {"Authorization": f"Bearer {token}"}
    body = {
        "name": "pm",
        "provider": "postmark",
        "webhook": {"basic_auth": {"username": "pm", "password": "crash-test"}},
    }
    path = httpx.post(f"{server.url}/api/v1/esp-connections", json=body, headers=admin).json()["webhook_url"]
    acked: list[int] = []
    for round_number in range(3):
        stop = threading.Event()
        numbers = range(round_number * 1000, round_number * 1000 + 400)
        writer = threading.Thread(target=_load, args=(f"{server.url}{path}", numbers, acked, stop))
        writer.start()
        target = len(acked) + 40
        deadline = time.monotonic() + 30
        while len(acked) < target and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()
        stop.set()
        writer.join()
        server = Server(settings)
    server.kill()

    container = build(settings)
    try:
        container.runner.catch_up_all()
        rows = list_events(container.db, EmailEventFilter(limit=100_000))
    finally:
        container.close()
    stored = Counter(r["provider_message_id"] for r in rows)
    assert acked, "the load generator got acknowledgements"
    missing = {f"msg-{i}" for i in acked} - set(stored)
    assert not missing, f"acknowledged but lost: {sorted(missing)[:5]}"
    assert all(n == 1 for n in stored.values()), "an event was stored twice"
