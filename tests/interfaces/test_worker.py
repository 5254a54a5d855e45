"""`tidings worker` runs the projections in a process of its own and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interfaces.bootstrap import Container
from interfaces.config import Settings
from projections.api_keys import list_keys

pytestmark = pytest.mark.slow
TIDINGS = str(Path(sys.executable).parent / "tidings")


def test_worker_catches_up_projections_written_by_another_process(settings: Settings, container: Container) -> None:
    issued = [container.keys.issue(f"k{i}", "editor") for i in range(5)]
    assert max(s.lag for s in container.runner.status()) > 0
    env = {**os.environ, "TIDINGS_DATA_DIR": str(settings.data_dir), "TIDINGS_DATABASE_URL": settings.database_url}
    worker = subprocess.Popen([TIDINGS, "worker", "--interval", "0.05"], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while max(s.lag for s in container.runner.status()) and time.monotonic() < deadline:
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            time.sleep(0.05)
        assert max(s.lag for s in container.runner.status()) == 0
        assert {k.id for k in list_keys(container.db)} == {i.key.id for i in issued}
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
