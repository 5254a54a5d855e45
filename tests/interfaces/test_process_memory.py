"""The `tidings` processes tune glibc's malloc (arenas, mmap threshold) unless the operator set the same."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_PROBE = "from interfaces.process_memory import tune_malloc; print(' '.join(tune_malloc()))"
_OURS = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_")


def _probe(**env: str) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k not in _OURS} | env
    done = subprocess.run([sys.executable, "-c", _PROBE], env=environ, capture_output=True, text=True, check=True)
    return done.stdout.split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_both_settings_are_applied_on_glibc() -> None:
    assert _probe() == ["MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_an_operators_own_setting_wins() -> None:
    assert _probe(MALLOC_ARENA_MAX="4") == ["MALLOC_MMAP_THRESHOLD_"]
    assert _probe(MALLOC_MMAP_THRESHOLD_="131072") == ["MALLOC_ARENA_MAX"]
