"""Webhook intake throughput on PostgreSQL: signed SendGrid batches of 500 posted to a running server.

Prints acknowledged events/s, the time until every acknowledged event is queryable, and the ratio to a
bare baseline measured in the same run: COPY of the same normalized rows into an equivalent table.
Then single-event requests: requests/s and latency percentiles.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench._common import PG_DSN, _pg_schema, median, print_machine, print_table
from bench.ingest_load import events, new_key, post_all, signed

TIDINGS = str(Path(sys.executable).parent / "tidings")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`tidings serve` on its own PostgreSQL schema, quiet logs, no rate limit in the way."""

    def __init__(self, url: str, data_dir: str) -> None:
        self.port = _free_port()
        env = {**os.environ, "TIDINGS_DATABASE_URL": url, "TIDINGS_DATA_DIR": data_dir, "TIDINGS_PORT": str(self.port),
               "TIDINGS_LOG_LEVEL": "WARNING", "TIDINGS_WEBHOOK_RATE_PER_SECOND": "1000000",
               "TIDINGS_API_RATE_PER_SECOND": "1000000"}  # fmt: skip
        self.proc = subprocess.Popen([TIDINGS, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        assert self.proc.stdout is not None
        banner = b""
        while b"tdg_" not in banner:
            banner += self.proc.stdout.readline()
        self.token = re.search(rb"tdg_[A-Za-z0-9_-]+", banner).group(0).decode()  # type: ignore[union-attr]
        while True:
            try:
                if httpx.get(f"{self.base}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)

    def api(self, method: str, path: str, **kw: Any) -> Any:
        """An admin API call."""
        return httpx.request(method, self.base + path, headers={"Authorization": f"Bearer {self.token}"}, **kw).json()

    def stop(self) -> None:
        """Stop the server."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def _post_from_processes(url: str, requests: list[Any], processes: int, concurrency: int) -> tuple[float, list[Any]]:
    slices = [requests[i::processes] for i in range(processes)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes) as pool:
        started = time.perf_counter()
        parts = pool.starmap(post_all, [(url, part, concurrency) for part in slices])
        elapsed = time.perf_counter() - started
    return elapsed, [r for part in parts for r in part]


def _sendgrid_connection(server: Server, public_key: str) -> Any:
    body = {"name": "sg", "provider": "sendgrid", "webhook": {"public_key": public_key}}
    return server.api("POST", "/api/v1/esp-connections", json=body)


def _wait_queryable(server: Server, timeout: float = 300) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if all(p["lag"] == 0 for p in server.api("GET", "/api/v1/projections")):
            return time.perf_counter() - started
        time.sleep(0.05)
    return float("nan")


def _copy_baseline(schema: str, rows: int) -> float:
    # The same normalized rows, COPYed into a table shaped like email_events (same indexes).
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{schema}".bench_copy (LIKE "{schema}".email_events INCLUDING ALL)')
        sample = conn.execute(f'SELECT * FROM "{schema}".email_events LIMIT 1').fetchone()
        assert sample is not None
        columns = [c.name for c in conn.execute(f'SELECT * FROM "{schema}".email_events LIMIT 0').description or []]
        values = [list(sample) for _ in range(rows)]
        for i, row in enumerate(values):
            row[columns.index("seq")] = i + 1
            row[columns.index("id")] = f"baseline-{i}"
        started = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor().copy(f'COPY "{schema}".bench_copy ({", ".join(columns)}) FROM STDIN') as cp,
        ):
            for row in values:
                cp.write_row(row)
        return time.perf_counter() - started


def run_batches(args: argparse.Namespace) -> None:
    """Batches of 500: acked events/s, time to queryable, COPY baseline."""
    rows = []
    for repeat in range(args.repeats):
        with _pg_schema() as (schema, url), tempfile.TemporaryDirectory() as tmp:
            server = Server(url, tmp)
            try:
                key, public = new_key()
                conn = _sendgrid_connection(server, public)
                target = server.base + conn["webhook_url"]
                requests = [signed(key, events(args.batch, i * args.batch)) for i in range(args.batches)]
                elapsed, results = _post_from_processes(target, requests, args.processes, args.concurrency)
                acked = sum(r[1] for r in results)
                failures = sum(1 for r in results if r[0] != 200)
                catch_up = _wait_queryable(server)
                baseline = _copy_baseline(schema, acked) if acked else float("nan")
            finally:
                server.stop()
        rate, e2e, copy_rate = acked / elapsed, acked / (elapsed + catch_up), acked / baseline
        rows.append((rate, catch_up, e2e, copy_rate, failures))
        print(f"repeat {repeat + 1}: {acked} events acked in {elapsed:.2f}s ({rate:,.0f}/s), "
              f"queryable {catch_up:.2f}s later, COPY baseline {copy_rate:,.0f}/s, {failures} non-200")  # fmt: skip
    ack, lag, e2e, copy = (median([r[i] for r in rows]) for i in range(4))
    print_table(
        f"Batches of {args.batch}, {args.processes} client processes x {args.concurrency} connections (median of "
        f"{args.repeats})",
        ["acked events/s", "queryable after (s)", "end-to-end events/s", "COPY baseline events/s",
         "acked / COPY", "end-to-end / COPY"],
        [[f"{ack:,.0f}", f"{lag:.2f}", f"{e2e:,.0f}", f"{copy:,.0f}", f"{ack / copy:.2f}", f"{e2e / copy:.2f}"]],
    )  # fmt: skip


def run_singles(args: argparse.Namespace) -> None:
    """One event per request: requests/s and latency."""
    with _pg_schema() as (_, url), tempfile.TemporaryDirectory() as tmp:
        server = Server(url, tmp)
        try:
            key, public = new_key()
            conn = _sendgrid_connection(server, public)
            requests = [signed(key, events(1, i)) for i in range(args.singles)]
            elapsed, results = _post_from_processes(server.base + conn["webhook_url"], requests, args.processes, 16)
        finally:
            server.stop()
    latencies = sorted(r[2] for r in results if r[0] == 200)
    p = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    print_table(
        f"Single-event requests ({args.singles}, {args.processes} processes x 16 connections)",
        ["requests/s", "p50 ms", "p99 ms", "non-200"],
        [[f"{len(results) / elapsed:,.0f}", f"{p[49] * 1000:.1f}", f"{p[98] * 1000:.1f}",
          sum(1 for r in results if r[0] != 200)]],
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Run both measurements."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=60, help="batches per repeat")
    parser.add_argument("--batch", type=int, default=500, help="events per batch")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--concurrency", type=int, default=4, help="connections per client process")
    parser.add_argument("--singles", type=int, default=3000, help="single-event requests")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print_machine()
    run_batches(args)
    run_singles(args)


if __name__ == "__main__":
    main()
