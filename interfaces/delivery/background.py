"""The delivery worker on a thread of its own (with its own event loop), for ``tidings serve``'s embedded mode."""

from __future__ import annotations

import asyncio
import logging
import threading

from interfaces.delivery.worker import DeliveryWorker

log = logging.getLogger(__name__)


class BackgroundDelivery:
    """Runs ``worker`` until ``stop``; stopping lets the batch in hand be recorded first."""

    def __init__(self, worker: DeliveryWorker) -> None:
        self.worker = worker
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name="tidings-delivery", daemon=True)
            self._thread.start()
            self._ready.wait(5)

    def _main(self) -> None:
        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            self._ready.set()
            try:
                await self.worker.run(self._stop)
            finally:
                await self.worker.aclose()

        asyncio.run(main())

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the worker to stop after its current batch and wait for it."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("delivery worker did not stop in time")
        self._thread = None
