"""The `tidings` console script."""

from __future__ import annotations

import click

from interfaces.cli.contacts import contacts
from interfaces.cli.deliver import deliver
from interfaces.cli.history import history
from interfaces.cli.inbound import inbound_smtp
from interfaces.cli.keys import keys
from interfaces.cli.projections import projections
from interfaces.cli.serve import serve, worker
from interfaces.cli.webhooks import webhooks
from interfaces.process_memory import tune_malloc


@click.group()
@click.version_option(package_name="tidings")
def cli() -> None:
    """Tidings: self-hosted, event-sourced email marketing."""
    tune_malloc()


cli.add_command(serve)
cli.add_command(worker)
cli.add_command(keys)
cli.add_command(projections)
cli.add_command(history)
cli.add_command(webhooks)
cli.add_command(contacts)
cli.add_command(deliver)
cli.add_command(inbound_smtp)

if __name__ == "__main__":
    cli()
