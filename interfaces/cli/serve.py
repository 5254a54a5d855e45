"""`tidings serve` (HTTP API, projections inline by default) and `tidings worker` (projections only)."""

from __future__ import annotations

import signal
import sys
from types import FrameType

import click
import uvicorn

from interfaces.bootstrap import build
from interfaces.config import Settings
from interfaces.http.app import create_app
from interfaces.logs import configure_logging


@click.command()
@click.option("--host", default=None, help="Listen address (default TIDINGS_HOST).")
@click.option("--port", type=int, default=None, help="Listen port (default TIDINGS_PORT).")
def serve(host: str | None, port: int | None) -> None:
    """Run the HTTP service."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
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
    try:
        uvicorn.run(
            create_app(container, run_projections=inline),
            host=host or settings.host,
            port=port or settings.port,
            log_config=None,
            access_log=False,
        )
    finally:
        container.close()


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
