"""`tidings serve` workers hide their start-up heap from the garbage collector (latency, bench/README §4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

_PROBE = """
import gc
from interfaces.cli.serve import worker_app
app = worker_app()
frozen = gc.get_freeze_count()
# A full collection now walks only what was made after start-up, not the modules, the app and its container.
tracked = len(gc.get_objects())
print(frozen, tracked)
"""


def test_a_worker_app_freezes_what_start_up_built(tmp_path: Path) -> None:
    env = {**os.environ, "TIDINGS_DATA_DIR": str(tmp_path), "TIDINGS_DATABASE_URL": ""}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    frozen, tracked = map(int, done.stdout.split())
    assert frozen > 50_000, frozen  # litestar, eventsourcing, msgspec, the route table, the container...
    assert tracked < frozen / 10, (tracked, frozen)
