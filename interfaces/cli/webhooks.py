"""`tidings webhooks renormalize`: re-run the current adapters over every stored delivery."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress

from interfaces.bootstrap import Container
from interfaces.cli.context import open_container
from interfaces.webhooks.provider import Handshake, WebhookRejected, WebhookRequest
from interfaces.webhooks.recorded import recorded
from interfaces.webhooks.registry import get_provider

console = Console()
BATCH = 200


@click.group()
def webhooks() -> None:
    """Webhook intake maintenance."""


@webhooks.command()
def renormalize() -> None:
    """Parse every stored raw delivery again; record what changed (never duplicates an event)."""
    with open_container() as c:
        head = c.store.head()
        changed = seen = 0
        with Progress("renormalizing", BarColumn(), MofNCompleteColumn(), console=console) as bar:
            task = bar.add_task("deliveries", total=max(head, 1))
            position = 0
            while True:
                deliveries, position = c.intake.deliveries(position, BATCH)
                if not deliveries:
                    break
                for delivery in deliveries:
                    seen += 1
                    changed += _renormalize_one(c, delivery)
                bar.update(task, completed=position)
            bar.update(task, completed=max(head, 1))
        c.runner.catch_up_all()
    click.echo(f"renormalized {seen} deliveries: {changed} changed")


def _renormalize_one(c: Container, delivery: object) -> int:
    provider = get_provider(getattr(delivery, "provider", ""))
    if provider is None:
        return 0
    request = WebhookRequest("", delivery.headers, delivery.body.encode())  # type: ignore[attr-defined]
    try:
        parsed = provider.parse(request)
    except WebhookRejected:
        return 0  # it parsed when it was accepted; a stricter adapter does not erase history
    if isinstance(parsed, Handshake):
        return 0
    events, quarantined = recorded(request.body, parsed)
    return int(c.intake.renormalize(delivery.originator_id, events, quarantined))  # type: ignore[attr-defined]
