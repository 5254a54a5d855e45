"""Killing `tidings serve` with SIGKILL loses no acknowledged event and no projection position."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from interfaces.bootstrap import build
from interfaces.config import Settings
from projections.api_keys import list_keys, snapshot

pytestmark = pytest.mark.slow
TIDINGS = str(Path(sys.executable).parent / "tidings")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A real `tidings serve` process."""

    def __init__(self, settings: Settings) -> None:
        self.port = _free_port()
        env = {**os.environ, "TIDINGS_DATA_DIR": str(settings.data_dir), "TIDINGS_PORT": str(self.port)}
        env["TIDINGS_DATABASE_URL"] = settings.database_url
        env["TIDINGS_API_RATE_PER_SECOND"] = "100000"
        env["TIDINGS_API_RATE_BURST"] = "100000"
        self.proc = subprocess.Popen(
            [TIDINGS, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self.output: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_ready()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "".join(self.output)
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("server did not become ready")

    def bootstrap_key(self) -> str | None:
        found = re.search(r"tdg_[A-Za-z0-9_-]{20,}", "".join(self.output))
        return found.group(0) if found else None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def _create_keys(server: Server, token: str, count: int, acked: list[str]) -> None:
    headers = {"Authorization": f"Bearer {token}"}

    def create(i: int) -> None:
        try:
            r = httpx.post(f"{server.url}/api/v1/keys", json={"name": f"k{i}", "role": "editor"}, headers=headers)
        except httpx.HTTPError:
            return  # the server died mid-request: not acknowledged, so not owed
        if r.status_code == 201:
            acked.append(r.json()["id"])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(count)))


def test_sigkill_loses_no_acknowledged_event_or_position(settings: Settings) -> None:
    first = Server(settings)
    token = first.bootstrap_key()
    assert token, "the first start must print a bootstrap admin key"
    acked: list[str] = []
    _create_keys(first, token, 20, acked)
    before = httpx.get(f"{first.url}/api/v1/projections", headers={"Authorization": f"Bearer {token}"}).json()
    # Kill while a second wave of commands is in flight.
    writer = threading.Thread(target=_create_keys, args=(first, token, 200, acked))
    writer.start()
    while len(acked) < 30:
        time.sleep(0.01)
    first.kill()
    writer.join()

    second = Server(settings)
    try:
        assert second.bootstrap_key() is None, "the bootstrap key is printed only on an empty store"
        after = httpx.get(f"{second.url}/api/v1/projections", headers={"Authorization": f"Bearer {token}"}).json()
    finally:
        second.kill()
    assert isinstance(before, list), before
    assert isinstance(after, list), after
    positions = {p["name"]: p["position"] for p in after}
    assert all(positions[p["name"]] >= p["position"] for p in before)

    container = build(settings)
    try:
        container.runner.catch_up_all()
        listed = {str(k.id) for k in list_keys(container.db)}
        assert set(acked) <= listed, "every acknowledged key survives the kill"
        assert all(status.lag == 0 for status in container.runner.status())
        incremental = snapshot(container.db)
        container.runner.rebuild("api_keys")
        assert snapshot(container.db) == incremental
    finally:
        container.close()
