"""`tidings projections status|rebuild NAME`."""

from __future__ import annotations

import time

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from interfaces.cli.context import open_container

console = Console()


@click.group()
def projections() -> None:
    """Inspect and rebuild read models."""


@projections.command()
def status() -> None:
    """Each projection's version, position, head and lag."""
    with open_container() as c:
        rows = c.runner.status()
    table = Table("projection", "version", "position", "head", "lag", "updated")
    for s in rows:
        table.add_row(s.name, str(s.version), str(s.position), str(s.head), str(s.lag), (s.updated_at or "")[:19])
    console.print(table)


@projections.command()
@click.argument("name")
def rebuild(name: str) -> None:
    """Drop a projection's tables and replay the whole log into them."""
    with open_container() as c:
        head = c.store.head()
        started = time.perf_counter()
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        ) as bar:
            task = bar.add_task(f"rebuilding {name}", total=max(head, 1))
            count = c.runner.rebuild(name, progress=lambda pos, top: bar.update(task, completed=pos, total=max(top, 1)))
            bar.update(task, completed=max(c.store.head(), 1))
        elapsed = time.perf_counter() - started
    click.echo(f"rebuilt {name}: {count} events in {elapsed:.2f}s")
