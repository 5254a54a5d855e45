"""`tidings serve --workers 2`: every acknowledged delivery is stored, copies racing on two processes once."""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
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
from tests.interfaces.test_crash import TIDINGS, _free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
AUTH = "Basic " + base64.b64encode(b"pm:workers").decode()


def _serve(env: dict[str, str], workers: int, log: Path) -> subprocess.Popen[str]:
    # Logs go to a file: a pipe nobody drains would fill up and block the server.
    with log.open("w") as sink:
        return subprocess.Popen(
            [TIDINGS, "serve", "--workers", str(workers)],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=sink,
            text=True,
        )


def _ready(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "serve exited early"
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("server did not become ready")


def test_two_workers_store_every_acknowledged_event_once(pg_url: str, tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"TIDINGS_DATABASE_URL": pg_url, "TIDINGS_DATA_DIR": str(tmp_path), "TIDINGS_PORT": str(port)}
    env |= {"TIDINGS_API_RATE_PER_SECOND": "100000", "TIDINGS_WEBHOOK_RATE_PER_SECOND": "100000"}
    proc = _serve(env, workers=2, log=tmp_path / "serve.log")
    try:
        assert proc.stdout is not None
        banner = ""
        while "tdg_" not in banner:
            banner += proc.stdout.readline()
        token = re.search(r"tdg_[A-Za-z0-9_-]+", banner).group(0)  # type: ignore[union-attr]
        _ready(url, proc)
        admin = {"Authorization": f"Bearer {token}"}
        creds = {"username": "pm", "password": "workers"}
        body = {"name": "pm", "provider": "postmark", "webhook": {"basic_auth": creds}}
        path = httpx.post(f"{url}/api/v1/esp-connections", json=body, headers=admin).json()["webhook_url"]
        acked: list[int] = []
        lock = threading.Lock()

        def deliver(i: int) -> None:
            # A fresh connection per copy spreads the copies over both workers.
            record = {"RecordType": "Delivery", "MessageID": f"msg-{i}", "Recipient": f"r{i}@example.com",
                      "DeliveredAt": "2026-11-28T10:00:00Z", "Metadata": {}}  # fmt: skip
            headers = {"Authorization": AUTH, "Content-Type": "application/json"}
            response = httpx.post(f"{url}{path}", json=record, headers=headers, timeout=30)
            assert response.status_code == 200, response.text
            with lock:
                acked.append(i)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(deliver, [i for i in range(150) for _ in range(2)]))
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], check=True, capture_output=True, text=True)
        assert len(children.stdout.split()) >= 2, "uvicorn runs the workers as processes of their own"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0

    container = build(Settings(data_dir=tmp_path, database_url=pg_url))
    try:
        container.runner.catch_up_all()
        rows = list_events(container.db, EmailEventFilter(limit=10_000))
    finally:
        container.close()
    stored = Counter(r["provider_message_id"] for r in rows)
    assert len(acked) == 300
    assert set(stored) == {f"msg-{i}" for i in range(150)}
    assert all(n == 1 for n in stored.values()), "a re-delivered event was stored twice"


def test_several_workers_need_postgresql(tmp_path: Path) -> None:
    env = {"TIDINGS_DATABASE_URL": f"sqlite:///{tmp_path}/t.db", "TIDINGS_DATA_DIR": str(tmp_path)}
    proc = _serve(env, workers=2, log=tmp_path / "serve.log")
    proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "--workers above 1 needs PostgreSQL" in (tmp_path / "serve.log").read_text()
