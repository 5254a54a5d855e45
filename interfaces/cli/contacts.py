"""`tidings contacts import FILE`: the same durable import job as the API, with a progress bar."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from domain.contact_import import ContactImport, ImportFormat
from interfaces.cli.context import open_container
from interfaces.cli.follower import projections_following
from interfaces.contact_import_files import ImportFile, read_header

console = Console()
_SUFFIXES = {".csv": ImportFormat.CSV, ".ndjson": ImportFormat.NDJSON, ".jsonl": ImportFormat.NDJSON}
SHOWN_ERRORS = 20


@click.group()
def contacts() -> None:
    """Manage contacts."""


@contacts.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice([f.value for f in ImportFormat]), default=None,
              help="csv or ndjson (default: from the file name).")  # fmt: skip
@click.option("--batch-size", default=1000, show_default=True, help="Rows saved per transaction.")
def import_(file: Path, fmt: str | None, batch_size: int) -> None:
    """Import contacts from a CSV (header row with an email column) or NDJSON file."""
    chosen = fmt or _SUFFIXES.get(file.suffix.lower())
    if chosen is None:
        raise click.UsageError("cannot tell the format from the file name; pass --format csv|ndjson")
    source = ImportFile(file, chosen)
    started = time.perf_counter()
    with open_container() as c:
        if source.format is ImportFormat.CSV:
            with file.open("rb") as f:
                read_header(f)
        job = c.contact_imports.start(source.format.value, file.name, source.size)
        click.echo(f"import {job.id}")
        columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
        with projections_following(c), Progress("[progress.description]{task.description}", *columns,
                                                console=console) as bar:  # fmt: skip
            task = bar.add_task("importing", total=max(source.size, 1))

            def advance(j: ContactImport) -> None:
                bar.update(task, completed=source.position(), description=f"importing ({j.rows_read:,} rows)")

            job = c.contact_imports.run(job, source.rows(), source.position, advance, batch_size)
            bar.update(task, completed=max(source.size, 1), description="updating read models")
    _report(job, time.perf_counter() - started)


def _report(job: ContactImport, elapsed: float) -> None:
    table = Table("rows", "created", "updated", "unchanged", "rejected", "seconds", "rows/s")
    table.add_row(*(f"{n:,}" for n in (job.rows_read, job.created, job.updated, job.unchanged, job.rejected)),
                  f"{elapsed:.1f}", f"{job.rows_read / max(elapsed, 1e-9):,.0f}")  # fmt: skip
    console.print(table)
    for error in job.errors[:SHOWN_ERRORS]:
        console.print(f"row {error['row']}: {error['field'] or '-'}: {error['message']}", markup=False)
    if job.rejected > SHOWN_ERRORS:
        console.print(f"... {job.rejected - SHOWN_ERRORS:,} more rejected rows (first 1,000 in the API report)")
