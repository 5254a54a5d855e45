"""Contact import throughput through the real import path, with a bare COPY baseline in the same run.

Writes a CSV of N contacts (email, first_name, plan, score, vip, signed_up), imports it with
``ContactImports.run`` exactly as the API's background job and the CLI do (parse, validate, batched
store reads, atomic batch saves with the job's progress) while the projection runner follows in a thread
of the same process, as ``tidings serve`` runs it, then waits until the read models have caught up. Prints
rows/s for the append and for "queryable" (contacts and contacts_attributes caught up), and the ratio
to COPY of the same read-model rows into equivalent plain tables. A second import of the same file
measures the no-op path (every row unchanged, nothing appended but the job's progress).

    .venv/bin/python -m bench.contacts_import                 # 1,000,000 rows on PostgreSQL
    .venv/bin/python -m bench.contacts_import --rows 200000 --batch 1000 2000 --backend postgres
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench._common import PG_URL, Target, _pg_schema, connect_raw, print_machine, print_table
from domain.email_address import contact_id_for
from interfaces.bootstrap import build
from interfaces.cli.follower import follow
from interfaces.config import Settings
from interfaces.contact_import_files import ImportFile
from projections.contact_imports import ContactImportsProjection
from projections.contacts import ATTRIBUTE_COLUMNS, COLUMNS, ContactsProjection, attribute_row

PLANS = ("free", "basic", "pro", "enterprise")
TARGET_SECONDS_PER_MILLION = 120


def write_csv(path: Path, rows: int) -> None:
    """A CSV of ``rows`` distinct contacts with four typed attributes each."""
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["email", "timezone", "first_name", "plan", "score", "vip", "signed_up"])
        for i in range(rows):
            out.writerow([f"user{i}@example{i % 97}.com", "Europe/Paris" if i % 3 else "", f"Name{i}",
                          PLANS[i % 4], i % 1000, "true" if i % 7 == 0 else "false",
                          f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"])  # fmt: skip


def read_model_rows(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows the projection ends up with, built up front for the COPY baseline."""
    now = "2026-01-01T00:00:00.000000+00:00"
    contacts, attributes = [], []
    for row in ImportFile(path, "csv").rows():
        data = row.contact  # type: ignore[union-attr]
        email = str(data.email)
        cid = str(contact_id_for(email))
        attrs = dict(sorted(data.attributes.items()))
        tz = None if not isinstance(data.timezone, str) else data.timezone
        contacts.append((cid, email, email.rpartition("@")[2], tz, None, json.dumps(attrs), now, now))
        attributes += [attribute_row(cid, k, v) for k, v in attrs.items()]
    return contacts, attributes


def copy_baseline(target: Any, contacts: list[tuple[Any, ...]], attributes: list[tuple[Any, ...]]) -> float:
    """Seconds to COPY (PostgreSQL) or executemany (SQLite) the rows into plain tables shaped like ours."""
    with connect_raw(target) as conn:
        prefix = f'"{target.schema}".' if target.schema else ""
        if target.schema:
            for table in ("contacts", "contacts_attributes"):
                conn.execute(f"CREATE TABLE {prefix}bench_{table} (LIKE {prefix}{table} INCLUDING ALL)")
            started = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur:
                with cur.copy(f"COPY {prefix}bench_contacts ({', '.join(COLUMNS)}) FROM STDIN") as cp:
                    for r in contacts:
                        cp.write_row(r)
                with cur.copy(
                    f"COPY {prefix}bench_contacts_attributes ({', '.join(ATTRIBUTE_COLUMNS)}) FROM STDIN"
                ) as cp:
                    for r in attributes:
                        cp.write_row(r)
            return time.perf_counter() - started
        conn.execute("CREATE TABLE bench_contacts AS SELECT * FROM contacts WHERE 0")
        conn.execute("CREATE TABLE bench_contacts_attributes AS SELECT * FROM contacts_attributes WHERE 0")
        started = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO bench_contacts VALUES ({', '.join('?' * len(COLUMNS))})", contacts)
        conn.executemany(f"INSERT INTO bench_contacts_attributes VALUES ({', '.join('?' * 6)})", attributes)
        conn.execute("COMMIT")
        return time.perf_counter() - started


@contextmanager
def contacts_target(backend: str) -> Iterator[Target]:
    """A fresh store whose runner maintains only the import's own read models.

    Read models that follow contacts (segment membership, activity) add their own cost on top; they are
    measured by their own benchmarks.
    """
    projections = _projections()
    with tempfile.TemporaryDirectory(prefix="tidings-bench-") as tmp:
        if backend == "sqlite":
            container = build(Settings(data_dir=Path(tmp), secret_key="bench"), projections)
            try:
                yield Target(backend, container, sqlite_path=Path(tmp) / "tidings.db")
            finally:
                container.close()
            return
        with _pg_schema() as (schema, url):
            container = build(Settings(data_dir=Path(tmp), secret_key="bench", database_url=url), projections)
            try:
                yield Target(backend, container, schema=schema)
            finally:
                container.close()


def _projections() -> list[Any]:
    return [ContactsProjection(), ContactImportsProjection()]


def _start_runner(target: Target, mode: str) -> Any:
    """Start the read models following the import; returns what stops them."""
    if mode == "thread":
        # As `tidings serve` runs it by default: in a thread of the importing process.
        target.container.runner.start()
        return target.container.runner.stop
    ctx = multiprocessing.get_context("spawn")
    stop, data_dir = ctx.Event(), tempfile.mkdtemp(prefix="tidings-bench-")
    # As `tidings contacts import` follows on PostgreSQL, with this bench's read models only.
    settings = Settings(data_dir=Path(data_dir), secret_key="bench", database_url=f"{PG_URL}?schema={target.schema}")
    process = ctx.Process(target=follow, args=(settings, stop, _projections))
    process.start()
    return lambda: (stop.set(), process.join(30))


def run_once(backend: str, path: Path, rows: int, batch: int, runner: str = "thread") -> list[Any]:
    """One fresh store: first import, catch-up, re-import, baseline; returns a table row."""
    with contacts_target(backend) as target:
        c = target.container
        source = ImportFile(path, "csv")
        stop_runner = _start_runner(target, runner)
        started = time.perf_counter()
        job = c.contact_imports.start("csv", path.name, source.size)
        job = c.contact_imports.run(job, source.rows(), source.position, batch_size=batch)
        append = time.perf_counter() - started
        assert c.runner.wait_for(c.store.head(), timeout=3600)
        queryable = time.perf_counter() - started
        stop_runner()
        assert (job.created, job.rejected) == (rows, 0), (job.created, job.rejected)
        again = ImportFile(path, "csv")
        started = time.perf_counter()
        second = c.contact_imports.run(c.contact_imports.start("csv", path.name, again.size), again.rows(),
                                       batch_size=batch)  # fmt: skip
        reimport = time.perf_counter() - started
        assert second.unchanged == rows
        baseline = copy_baseline(target, *read_model_rows(path))
    print(f"{backend} batch {batch}, runner in a {runner}: append {append:.1f}s, queryable {queryable:.1f}s, "
          f"re-import {reimport:.1f}s, baseline {baseline:.1f}s", flush=True)  # fmt: skip
    return [backend, runner, f"{rows:,}", batch, f"{rows / append:,.0f}", f"{rows / queryable:,.0f}",
            f"{queryable:.1f}", f"{rows / reimport:,.0f}", f"{rows / baseline:,.0f}", f"{baseline / queryable:.3f}",
            f"{queryable * 1_000_000 / rows:.0f}"]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Import, then report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, nargs="+", default=[1000], help="rows per atomic save")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], nargs="+", default=["postgres"])
    where = ("where the read models follow: a thread of the importing process (`tidings serve`) or a process "
             "of their own (`serve --workers N`, `tidings worker`; PostgreSQL only)")  # fmt: skip
    parser.add_argument("--runner", choices=["thread", "process"], nargs="+", default=["thread"], help=where)
    args = parser.parse_args(argv)
    print_machine()
    with tempfile.TemporaryDirectory(prefix="tidings-bench-") as tmp:
        path = Path(tmp) / "contacts.csv"
        write_csv(path, args.rows)
        print(f"{args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB of CSV", flush=True)
        results = [run_once(b, path, args.rows, n, r) for b in args.backend for n in args.batch for r in args.runner
                   if b == "postgres" or r == "thread"]  # fmt: skip
    print_table(
        f"Contact import ({args.rows:,} new contacts, 4 attributes each)",
        ["backend", "runner", "rows", "batch", "append rows/s", "queryable rows/s", "queryable s", "re-import rows/s",
         "COPY baseline rows/s", "queryable / COPY", f"s per 1M (target {TARGET_SECONDS_PER_MILLION})"],
        results,
    )  # fmt: skip


if __name__ == "__main__":
    main()
