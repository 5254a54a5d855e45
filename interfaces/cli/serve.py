"""`tidings serve` (HTTP API, projections inline by default) and `tidings worker` (projections only).

With ``--workers N`` (PostgreSQL only) uvicorn runs N HTTP processes, each with its own connection pool
and webhook batcher, and this process (the supervisor) runs the projections: they no longer share a
GIL with request handling. Each worker acknowledges a webhook only after its own commit, and the email
events projection de-duplicates across processes by id, so neither guarantee depends on the count.
"""

from __future__ import annotations

import atexit
import gc
import logging
import signal
import sys
from types import FrameType

import click
import uvicorn
from litestar import Litestar

from interfaces.bootstrap import build
from interfaces.config import Settings
from interfaces.delivery.background import BackgroundDelivery
from interfaces.delivery.targeting import campaign_audience
from interfaces.delivery.worker import DeliveryWorker
from interfaces.http.app import create_app
from interfaces.logs import configure_logging
from interfaces.process_memory import tune_malloc

log = logging.getLogger("tidings")
# Workers save in other processes, so the supervisor's runner is never woken by a local save: poll often.
SUPERVISOR_POLL_SECONDS = 0.05


@click.command()
@click.option("--host", default=None, help="Listen address (default TIDINGS_HOST).")
@click.option("--port", type=int, default=None, help="Listen port (default TIDINGS_PORT).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="HTTP worker processes (more than one needs PostgreSQL; projections then run in the supervisor).",
)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Run the HTTP service."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    if workers > 1 and not settings.is_postgres:
        raise click.UsageError("--workers above 1 needs PostgreSQL (TIDINGS_DATABASE_URL=postgresql://...)")
    if workers > 1 and not settings.redis_url:
        log.warning(
            "several workers without TIDINGS_REDIS_URL: rate limits and the webhook replay guard are per process"
        )
    container = build(settings)
    inline = settings.projections == "inline"
    issued = container.keys.issue_bootstrap_admin()
    if inline:
        container.runner.catch_up_all()
    if issued is not None:
        # Printed, never logged: logs must not contain keys.
        sys.stdout.write(
            "\n  First start on an empty store: a bootstrap admin API key was issued.\n"
            f"  It is shown this once; store it now:\n\n    {issued.token}\n\n"
        )
        sys.stdout.flush()
    host, port = host or settings.host, port or settings.port
    delivery = (
        BackgroundDelivery(DeliveryWorker(container, campaign_audience)) if settings.delivery == "inline" else None
    )
    if delivery is not None:
        delivery.start()
    try:
        if workers == 1:
            app = create_app(container, run_projections=inline)
            _freeze_startup_heap()
            uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
        else:
            _freeze_startup_heap()
            if inline:
                container.runner.start(SUPERVISOR_POLL_SECONDS)
            factory = f"{__name__}:worker_app"
            uvicorn.run(factory, factory=True, workers=workers, host=host, port=port, log_config=None, access_log=False)
    finally:
        if delivery is not None:
            delivery.stop()
        container.close()


def worker_app() -> Litestar:
    """One HTTP worker of ``serve --workers N``: its own container, no projections (the supervisor runs them)."""
    tune_malloc()  # a process of its own, started without the CLI's group callback
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    container = build(settings)
    atexit.register(container.close)
    app = create_app(container, run_projections=False)
    _freeze_startup_heap()
    return app


def _freeze_startup_heap() -> None:
    """Move what start-up built (modules, the app, its container) out of the collector's sight.

    Those objects live as long as the process, yet every full collection walked all of them: 15-65 ms
    with the world stopped, an outlier in a webhook's latency every few seconds under load.
    """
    gc.collect()
    gc.freeze()


@click.command()
@click.option("--interval", type=float, default=0.2, show_default=True, help="Seconds between polls of the log.")
def worker(interval: float) -> None:
    """Run the projections (for deployments that set TIDINGS_PROJECTIONS=off on serve)."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    container = build(settings)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        container.runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        container.runner.run(interval)
    finally:
        container.close()
