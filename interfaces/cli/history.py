"""`tidings history ID [--at ISO]`."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

import click
import msgspec
from rich.console import Console
from rich.table import Table

from interfaces.cli.context import open_container

console = Console()


@click.command()
@click.argument("aggregate_id", type=click.UUID)
@click.option("--at", "at", default=None, help="Show the state at this ISO 8601 instant (with offset) instead.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def history(aggregate_id: uuid.UUID, at: str | None, as_json: bool) -> None:
    """An aggregate's recorded events, or its state at an instant."""
    with open_container() as c:
        if at is not None:
            try:
                instant = datetime.fromisoformat(at)
            except ValueError:
                raise click.BadParameter(f"not an ISO 8601 instant: {at!r}", param_hint="--at") from None
            result = dataclasses.asdict(c.history.state_at(aggregate_id, instant))
            click.echo(msgspec.json.format(msgspec.json.encode(result)).decode())
            return
        entries = c.history.entries(aggregate_id)
    if as_json:
        click.echo(msgspec.json.format(msgspec.json.encode([dataclasses.asdict(e) for e in entries])).decode())
        return
    table = Table("v", "type", "time", "actor", "reason", "payload")
    for e in entries:
        payload = msgspec.json.encode(e.payload).decode()
        table.add_row(str(e.version), e.type, e.timestamp.isoformat()[:23], e.actor, e.reason or "", payload)
    console.print(table)
