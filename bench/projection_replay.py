"""Projection replay rate: ``runner.rebuild("api_keys")`` vs a bare SELECT of the same rows.

Run: ``.venv/bin/python -m bench.projection_replay [--backend sqlite|postgres|both] [--events 20000]``
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

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
from projections.api_keys import TABLE

BATCH = 500
Stage = Callable[[], Any]


def populate(target: Target, events: int, renamed: float, revoked: float) -> tuple[int, int]:
    """Store ``events`` ApiKey events (Issued, then some Renamed and Revoked); returns (keys, revoked)."""
    n_renamed, n_revoked = int(events * renamed), int(events * revoked)
    n_keys = events - n_renamed - n_revoked
    save = target.container.keys.save
    keys: list[ApiKey] = []
    for start in range(0, n_keys, BATCH):
        batch = new_keys(min(BATCH, n_keys - start), start)
        save(*batch)
        keys.extend(batch)
    # Renames and revocations go to different keys first, so replay mixes UPDATEs across the table.
    for i in range(n_renamed):
        keys[i % n_keys].rename(f"renamed {i}")
    for i in range(n_revoked):
        keys[-1 - i].revoke()
    for start in range(0, n_keys, BATCH):
        save(*keys[start : start + BATCH])
    return n_keys, n_revoked


def bare_select(target: Target, conn: Any) -> Stage:
    """Page through the events table with a plain driver, 500 rows at a time, keyset-ordered."""
    if target.backend == "sqlite":
        position, mark = "rowid", "?"
    else:
        position, mark = "notification_id", "%s"
    sql = (
        f"SELECT {position}, originator_id, originator_version, topic, state FROM {target.events_table} "
        f"WHERE {position} > {mark} ORDER BY {position} LIMIT {BATCH}"
    )

    def run() -> int:
        last, total = 0, 0
        while rows := conn.execute(sql, (last,)).fetchall():
            last = rows[-1][0]
            total += len(rows)
        return total

    return run


def library_select(target: Target, decode: bool) -> Stage:
    """Page through the log as the runner reads it (``select_notifications`` with its topics), optionally decoding."""
    recorder = target.container.store.recorder
    mapper = target.container.keys.mapper
    topics = target.container.runner.projections[TABLE].topics

    def run() -> int:
        last, total = 0, 0
        while notifications := recorder.select_notifications(
            start=last, limit=BATCH, topics=topics, inclusive_of_start=False
        ):
            if decode:
                [mapper.to_domain_event(n) for n in notifications]
            last = notifications[-1].id
            total += len(notifications)
        return total

    return run


def stages(target: Target, conn: Any) -> dict[str, Stage]:
    """Each step of a replay, from the bare read up to the full rebuild."""
    return {
        "bare SELECT (driver)": bare_select(target, conn),
        "recorder.select_notifications": library_select(target, decode=False),
        "select + mapper.to_domain_event": library_select(target, decode=True),
        "runner.rebuild (read+decode+apply)": lambda: target.container.runner.rebuild(TABLE),
    }


def check_rebuild(target: Target, n_keys: int, n_revoked: int) -> str:
    """Whether the rebuilt table holds what was stored (a sanity check, not a timing)."""
    rows = target.container.db.query(f"SELECT COUNT(*) AS n, COUNT(revoked_at) AS r FROM {TABLE}")[0]
    ok = (rows["n"], rows["r"]) == (n_keys, n_revoked)
    return "ok" if ok else f"MISMATCH: {rows['n']} keys / {rows['r']} revoked, expected {n_keys} / {n_revoked}"


def bench_backend(backend: str, args: argparse.Namespace) -> list[list[str]]:
    """Table rows for one backend: events/s per stage and its ratio to the bare SELECT."""
    with open_target(backend) as target, connect_raw(target) as conn:
        n_keys, n_revoked = populate(target, args.events, args.renamed, args.revoked)
        runs = stages(target, conn)
        for run in runs.values():
            run()
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, run in runs.items():
                seconds[name].append(timed(run))
        print(f"{backend}: {args.events:,} events, rebuilt table check: {check_rebuild(target, n_keys, n_revoked)}")
    return _rows(backend, args.events, seconds)


def _rows(backend: str, events: int, seconds: dict[str, list[float]]) -> list[list[str]]:
    rates = {name: [events / s for s in samples] for name, samples in seconds.items()}
    bare = median(next(iter(rates.values())))
    return [
        [backend, name, f"{median(r):,.0f}", spread(r), f"{1e6 / median(r):.1f}", f"{median(r) / bare:.3f}"]
        for name, r in rates.items()
    ]


def main(argv: list[str] | None = None) -> None:
    """Parse options, run every selected backend, print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--events", type=int, default=20_000, help="ApiKey events stored before replaying")
    parser.add_argument("--renamed", type=float, default=0.1, help="share of the events that are Renamed")
    parser.add_argument("--revoked", type=float, default=0.1, help="share of the events that are Revoked")
    args = parser.parse_args(argv)
    print_machine()
    rows = [row for backend in backends_of(args) for row in bench_backend(backend, args)]
    print_table(
        f"Replay rate, events/s (median of {args.repeats}; batches of {BATCH}; ratio = stage / bare SELECT)",
        ["backend", "stage", "events/s", "min-max", "µs/event", "ratio to bare"],
        rows,
    )


if __name__ == "__main__":
    main()
