"""Micro-batching: deliveries from concurrent requests are saved together, each reply waiting for its commit.

One transaction per request caps PostgreSQL at a few hundred requests per second (the events table is
locked per insert); one transaction per batch of requests keeps the lock count low while every ESP
still gets its 2xx only after the commit that holds its delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from litestar.concurrency import sync_to_thread

from application.intake import Delivery, Intake

log = logging.getLogger("tidings.webhooks")


class QueueFull(Exception):
    """Too many deliveries waiting for storage: shed load so the ESP retries later."""


class DeliveryBatcher:
    """Queues deliveries and records them in batches from one background task."""

    def __init__(self, intake: Intake, max_batch: int = 200, max_waiting: int = 20_000) -> None:
        self._intake = intake
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Delivery, asyncio.Future[int]]] = asyncio.Queue(max_waiting)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the background task on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhook-batcher")

    async def stop(self) -> None:
        """Stop after the queued deliveries are saved."""
        await self._queue.join()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def record(self, delivery: Delivery) -> int:
        """Queue a delivery and wait until it is committed; returns its log position."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait((delivery, future))
        except asyncio.QueueFull:
            raise QueueFull("too many webhook deliveries waiting to be stored") from None
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                position = await sync_to_thread(self._intake.record, [d for d, _ in batch])
            except Exception as exc:  # the database is down: every waiter answers 503, ESPs retry
                log.exception("storing webhook deliveries failed", extra={"deliveries": len(batch)})
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(position)
            finally:
                for _ in batch:
                    self._queue.task_done()
