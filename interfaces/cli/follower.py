"""Read models that follow a long command (an import) while it runs, so they are current when it ends.

On PostgreSQL they follow from a process of their own: the import and the projections then use a core
each instead of sharing one interpreter lock (1M contacts in the import's own read models: 96 s against
132 s in a thread, bench/README §6). SQLite keeps them in a thread: its writes are serialized in-process anyway.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from interfaces.bootstrap import Container, build
from interfaces.config import Settings
from projections.projection import Projection

_POLL_SECONDS = 0.05
_STALLED_SECONDS = 30.0


@contextmanager
def projections_following(container: Container) -> Iterator[None]:
    """Run the projections alongside the block; on exit wait until they have applied all it wrote."""
    if container.settings.projections != "inline":
        yield
        return
    stop, alive = _start(container)
    try:
        yield
        _wait(container, alive)
    finally:
        stop()
        # Whatever the follower left (it failed, or the block raised) is applied here, in this process.
        container.runner.catch_up_all()


def _wait(container: Container, alive: Callable[[], bool]) -> None:
    """Until the follower has applied everything, or has died or stalled: the caller's own catch-up then
    finishes the work, or raises what stops it (a follower only logs and retries)."""
    head, last, since = container.store.head(), -1, time.monotonic()
    while not container.runner.wait_for(head, timeout=1.0) and alive():
        reached = min(status.position for status in container.runner.status())
        if reached != last:
            last, since = reached, time.monotonic()
        elif time.monotonic() - since > _STALLED_SECONDS:
            return


def _start(container: Container) -> tuple[Callable[[], None], Callable[[], bool]]:
    if not container.settings.is_postgres:
        container.runner.start(_POLL_SECONDS)
        return container.runner.stop, lambda: True
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    process = ctx.Process(target=follow, args=(container.settings, stop), name="tidings-projections", daemon=True)
    process.start()

    def stopped() -> None:
        stop.set()
        process.join(60)
        if process.is_alive():
            process.terminate()

    return stopped, process.is_alive


def follow(settings: Settings, stop: Any, projections: Callable[[], list[Projection]] | None = None) -> None:
    """The child process: every projection (or those ``projections`` makes), until ``stop`` is set."""
    container = build(settings, projections() if projections else None)
    threading.Thread(target=lambda: (stop.wait(), container.runner.stop()), daemon=True).start()
    try:
        container.runner.run(_POLL_SECONDS)
    finally:
        container.close()
