"""``tidings inbound-smtp``: receive mail sent to the List-Unsubscribe mailto address."""

from __future__ import annotations

import signal
import threading

import click

from interfaces.bootstrap import build
from interfaces.config import Settings
from interfaces.inbound_mail.smtp_receiver import receiver
from interfaces.logs import configure_logging


@click.command("inbound-smtp")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=2525, show_default=True)
def inbound_smtp(host: str, port: int) -> None:
    """Apply the unsubscribe requests mailed to TIDINGS_UNSUBSCRIBE_MAILTO (point its MX or a relay here)."""
    settings = Settings.from_env()
    if not settings.unsubscribe_mailto:
        raise click.ClickException("set TIDINGS_UNSUBSCRIBE_MAILTO to the address List-Unsubscribe names")
    configure_logging(settings.log_level)
    container = build(settings)
    server = receiver(container, settings.unsubscribe_mailto, host, port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    click.echo(f"receiving mail for {settings.unsubscribe_mailto} on {host}:{port}")
    try:
        stop.wait()
    finally:
        server.stop()
        container.close()
