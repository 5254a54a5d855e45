"""Event-store append throughput through our stack vs plain INSERTs of equally sized rows.

Run: ``.venv/bin/python -m bench.event_store_append [--backend sqlite|postgres|both]``
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable
from typing import Any

from eventsourcing.utils import get_topic

from bench._common import (
    Target,
    add_common_args,
    backends_of,
    connect_raw,
    median,
    new_keys,
    open_target,
    print_machine,
    print_table,
    spread,
    timed,
)
from domain.api_key import ApiKey

TOPIC = get_topic(ApiKey.Issued)
PLAIN = "bench_plain"
# The same columns, primary key and (PostgreSQL) notification id as the library's events table.
PLAIN_DDL = {
    "sqlite": [
        f"CREATE TABLE {PLAIN} (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, "
        "PRIMARY KEY (originator_id, originator_version))"
    ],
    "postgres": [
        f"CREATE TABLE {PLAIN} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text, "
        "state bytea, notification_id bigserial, PRIMARY KEY (originator_id, originator_version))",
        f"CREATE UNIQUE INDEX {PLAIN}_nid ON {PLAIN} (notification_id)",
    ],
}
COLUMNS = "originator_id, originator_version, topic, state"

Runner = Callable[[int], float]


def ours(target: Target, batch: int) -> Runner:
    """Save ``n`` new ApiKeys through ``container.keys.save``, ``batch`` aggregates per call."""

    def run(n: int) -> float:
        # Aggregates are built before the clock starts: the baseline gets its rows for free too.
        batches = [new_keys(batch, i) for i in range(0, n, batch)]
        save = target.container.keys.save
        return timed(lambda: [save(*aggs) for aggs in batches])

    return run


def _rows(backend: str, state: bytes, n: int, batch: int) -> list[list[tuple[Any, ...]]]:
    def oid() -> Any:
        # Mirror what each recorder binds: hex text on SQLite, a uuid on PostgreSQL.
        return uuid.uuid4().hex if backend == "sqlite" else uuid.uuid4()

    return [[(oid(), 1, TOPIC, state) for _ in range(batch)] for _ in range(0, n, batch)]


def sqlite_executemany(conn: Any, state: bytes, batch: int) -> Runner:
    """Plain sqlite3 executemany, one BEGIN/COMMIT per batch."""
    sql = f"INSERT INTO {PLAIN} ({COLUMNS}) VALUES (?, ?, ?, ?)"

    def insert(rows: list[tuple[Any, ...]]) -> None:
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")

    return lambda n: _run_batches(insert, _rows("sqlite", state, n, batch))


def pg_executemany(conn: Any, state: bytes, batch: int) -> Runner:
    """Plain psycopg executemany (pipelined by psycopg), one transaction per batch."""
    sql = f"INSERT INTO {PLAIN} ({COLUMNS}) VALUES (%s, %s, %s, %s)"

    def insert(rows: list[tuple[Any, ...]]) -> None:
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(sql, rows)

    return lambda n: _run_batches(insert, _rows("postgres", state, n, batch))


def pg_copy(conn: Any, state: bytes, batch: int) -> Runner:
    """Plain psycopg COPY FROM STDIN, one transaction per batch."""
    sql = f"COPY {PLAIN} ({COLUMNS}) FROM STDIN"

    def insert(rows: list[tuple[Any, ...]]) -> None:
        with conn.transaction(), conn.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    return lambda n: _run_batches(insert, _rows("postgres", state, n, batch))


def single_insert(conn: Any, backend: str, state: bytes) -> Runner:
    """One autocommit INSERT per event: the fewest round trips a single-event transaction can take."""
    mark = "?" if backend == "sqlite" else "%s"
    sql = f"INSERT INTO {PLAIN} ({COLUMNS}) VALUES ({mark}, {mark}, {mark}, {mark})"

    def insert(rows: list[tuple[Any, ...]]) -> None:
        conn.execute(sql, rows[0])

    return lambda n: _run_batches(insert, _rows(backend, state, n, 1))


def _run_batches(insert: Callable[[list[tuple[Any, ...]]], None], batches: list[list[tuple[Any, ...]]]) -> float:
    return timed(lambda: [insert(rows) for rows in batches])


def baselines(target: Target, conn: Any, state: bytes, batch: int) -> dict[str, Runner]:
    """The bare-driver runners that make sense for this backend and batch size."""
    driver = "sqlite3" if target.backend == "sqlite" else "psycopg"
    many = sqlite_executemany if target.backend == "sqlite" else pg_executemany
    found = {f"{driver} executemany": many(conn, state, batch)}
    if batch == 1:
        found[f"{driver} execute, autocommit"] = single_insert(conn, target.backend, state)
    elif target.backend == "postgres":
        found["psycopg COPY"] = pg_copy(conn, state, batch)
    return found


def measure(runners: dict[str, Runner], n: int, batch: int, repeats: int) -> dict[str, list[float]]:
    """Events/s per runner; repeats are interleaved so drift on the noisy box hits every runner alike."""
    for run in runners.values():
        run(batch)
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            rates[name].append(n / run(n))
    return rates


def sample_state(target: Target) -> bytes:
    """The stored state of one real Issued event, so baseline rows weigh exactly the same."""
    event = new_keys(1)[0].pending_events[0]
    return bytes(target.container.keys.mapper.to_stored_event(event).state)


def bench_backend(backend: str, args: argparse.Namespace) -> list[list[str]]:
    """Table rows for one backend: ours and its baselines, per batch size."""
    rows: list[list[str]] = []
    with open_target(backend) as target, connect_raw(target) as conn:
        for statement in PLAIN_DDL[backend]:
            conn.execute(statement)
        state = sample_state(target)
        for batch in args.batches:
            n = max(batch, (args.events_single if batch == 1 else args.events) // batch * batch)
            runners = {"ours (keys.save)": ours(target, batch), **baselines(target, conn, state, batch)}
            rates = measure(runners, n, batch, args.repeats)
            ours_rate = median(rates["ours (keys.save)"])
            for name, samples in rates.items():
                rate = median(samples)
                ratio = "1.00" if name.startswith("ours") else f"{ours_rate / rate:.2f}"
                rows.append([backend, str(batch), name, f"{rate:,.0f}", spread(samples), ratio, str(len(state))])
    return rows


def main(argv: list[str] | None = None) -> None:
    """Parse options, run every selected backend, print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 500], help="aggregates per save / transaction")
    parser.add_argument("--events", type=int, default=10_000, help="events per repeat for batches > 1")
    parser.add_argument("--events-single", type=int, default=500, help="events per repeat for batch 1")
    args = parser.parse_args(argv)
    print_machine()
    rows = [row for backend in backends_of(args) for row in bench_backend(backend, args)]
    print_table(
        f"Append throughput, events/s (median of {args.repeats}; ratio = ours / baseline)",
        ["backend", "batch", "writer", "events/s", "min-max", "ours/baseline", "state bytes"],
        rows,
    )


if __name__ == "__main__":
    main()
