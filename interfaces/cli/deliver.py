"""``tidings deliver``: run the delivery worker (for deployments that set TIDINGS_DELIVERY=off on serve)."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta

import click

from interfaces.bootstrap import build
from interfaces.config import Settings
from interfaces.delivery.targeting import campaign_audience
from interfaces.delivery.worker import DeliveryWorker, WorkerSettings
from interfaces.logs import configure_logging


@click.command()
@click.option("--once", is_flag=True, help="Deliver what is due, then exit.")
@click.option("--batch-size", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--poll", type=float, default=1.0, show_default=True, help="Seconds between passes when idle.")
@click.option(
    "--lease", type=click.FloatRange(1, 3600), default=300, show_default=True,
    help="Seconds a claimed batch is held before another worker may recover it.",
)  # fmt: skip
def deliver(once: bool, batch_size: int, poll: float, lease: float) -> None:
    """Send due campaigns through their ESP connections' transports."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    container = build(settings)
    if settings.projections == "inline":
        container.runner.start()
    options = WorkerSettings(batch_size=batch_size, poll_seconds=poll, lease=timedelta(seconds=lease))
    worker = DeliveryWorker(container, campaign_audience, settings=options)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            # A signal lets the batch in hand finish and be recorded: nothing is left in doubt.
            loop.add_signal_handler(sig, stop.set)
        try:
            if once:
                await worker.drain()
            else:
                await worker.run(stop)
        finally:
            await worker.aclose()

    try:
        asyncio.run(main())
    finally:
        container.close()
