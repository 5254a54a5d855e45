"""Shared plumbing for the benchmarks: isolated stores, raw connections, timing and markdown tables."""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from application.keys import hash_token, new_token
from domain.api_key import ApiKey
from interfaces.bootstrap import Container, build
from interfaces.config import Settings

PG_DSN = "host=127.0.0.1 port=5432 dbname=test"
PG_URL = "postgresql://127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgres")


@dataclass
class Target:
    """One isolated store under test: the assembled service plus what a raw client needs to reach it."""

    backend: str
    container: Container
    sqlite_path: Path | None = None
    schema: str | None = None

    @property
    def events_table(self) -> str:
        """The events table as raw SQL must name it."""
        return "stored_events" if self.schema is None else f'"{self.schema}".tidings_events'


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Options every benchmark takes."""
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both", help="store(s) to measure")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per measurement (median reported)")


def backends_of(args: argparse.Namespace) -> list[str]:
    """The backends selected by ``--backend``."""
    return list(BACKENDS) if args.backend == "both" else [args.backend]


@contextmanager
def open_target(backend: str) -> Iterator[Target]:
    """A fresh store: a SQLite file in a temp dir, or a PostgreSQL schema of its own (dropped afterwards)."""
    with tempfile.TemporaryDirectory(prefix="tidings-bench-") as tmp:
        if backend == "sqlite":
            container = build(Settings(data_dir=Path(tmp), secret_key="bench"))
            try:
                yield Target(backend, container, sqlite_path=Path(tmp) / "tidings.db")
            finally:
                container.close()
        else:
            with _pg_schema() as (schema, url):
                container = build(Settings(data_dir=Path(tmp), secret_key="bench", database_url=url))
                try:
                    yield Target(backend, container, schema=schema)
                finally:
                    container.close()


@contextmanager
def _pg_schema() -> Iterator[tuple[str, str]]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        yield schema, f"{PG_URL}?schema={schema}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def connect_raw(target: Target) -> Iterator[Any]:
    """A plain driver connection to the same database, in autocommit mode, closed afterwards."""
    if target.sqlite_path is not None:
        conn: Any = sqlite3.connect(target.sqlite_path, isolation_level=None)
    else:
        conn = psycopg.connect(PG_DSN, autocommit=True)
    try:
        yield conn
    finally:
        conn.close()


def new_keys(count: int, start: int = 0) -> list[ApiKey]:
    """Fresh API key aggregates, each holding one pending Issued event."""
    keys = []
    for i in range(start, start + count):
        token = new_token()
        keys.append(ApiKey.issue(uuid.uuid4(), f"bench key {i}", "editor", hash_token(token), token[:10]))
    return keys


def timed(fn: Callable[[], Any]) -> float:
    """Seconds ``fn`` takes, after a collection so earlier garbage is not billed to it."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(values: Sequence[float]) -> float:
    """The median (robust to the odd slow repeat on a noisy 2-core box)."""
    return statistics.median(values)


def spread(values: Sequence[float]) -> str:
    """Min-max of the repeats, to show how noisy a median is."""
    return f"{min(values):,.0f}-{max(values):,.0f}"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A GitHub-markdown table, ready to paste into the README."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


def print_machine() -> None:
    """What the figures were measured on."""
    pg = "n/a"
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3) as conn:
            pg = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    except psycopg.Error:
        pass
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {pg}, {platform.platform()}; load average {os.getloadavg()[0]:.2f} (other work skews figures)"
    )
