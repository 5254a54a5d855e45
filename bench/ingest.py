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
from bench.ingest_load import events, new_key, post_all, ready, signed

TIDINGS = str(Path(sys.executable).parent / "tidings")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`tidings serve` on its own PostgreSQL schema, quiet logs, no rate limit in the way."""

    def __init__(self, url: str, data_dir: str, workers: int = 1) -> None:
        self.port = _free_port()
        env = {**os.environ, "TIDINGS_DATABASE_URL": url, "TIDINGS_DATA_DIR": data_dir, "TIDINGS_PORT": str(self.port),
               "TIDINGS_LOG_LEVEL": "WARNING", "TIDINGS_WEBHOOK_RATE_PER_SECOND": "1000000",
               "TIDINGS_API_RATE_PER_SECOND": "1000000"}  # fmt: skip
        command = [TIDINGS, "serve", *(["--workers", str(workers)] if workers > 1 else [])]
        self.proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
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

    def cpu_seconds(self) -> float:
        """User + system CPU the server's processes (supervisor and workers) have used so far."""
        pids, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
            todo.extend(int(child) for child in children.stdout.split())
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Stop the server."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def _post_from_processes(
    url: str, requests: list[Any], processes: int, concurrency: int, rate: float | None = None, method: str = "POST"
) -> tuple[float, list[Any]]:
    """Requests split over client processes that start together; (seconds to the last answer, results)."""
    slices = [requests[i::processes] for i in range(processes)]
    share = rate / processes if rate else None
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes) as pool:
        # Every client process has imported and is idle before the clock starts.
        pool.map(ready, range(processes))
        start_at = time.time() + 0.5
        parts = pool.starmap(post_all, [(url, part, concurrency, start_at, share, method) for part in slices])
    elapsed = max(finished for _, finished in parts) - start_at
    return elapsed, [r for part, _ in parts for r in part]


def _sendgrid_connection(server: Server, public_key: str) -> Any:
    body = {"name": "sg", "provider": "sendgrid", "webhook": {"public_key": public_key}}
    return server.api("POST", "/api/v1/esp-connections", json=body)


def _wait_queryable(server: Server, timeout: float = 300) -> tuple[float, float]:
    """Seconds until the normalized events are queryable (``email_events`` caught up), and until every read
    model is, including what the email policies recorded in reaction (suppressions for the hard bounces)."""
    started = time.perf_counter()
    events_at = float("nan")
    while time.perf_counter() - started < timeout:
        lags = {p["name"]: p["lag"] for p in server.api("GET", "/api/v1/projections")}
        now = time.perf_counter() - started
        if events_at != events_at and lags.get("email_events") == 0:  # still nan
            events_at = now
        if all(lag == 0 for lag in lags.values()):
            return (now if events_at != events_at else events_at), now
        time.sleep(0.05)
    return events_at, float("nan")


def _copy_baseline(schema: str) -> float:
    """Seconds to COPY the rows the projection wrote (read back first) into a table shaped like email_events.

    Same rows, same columns, same indexes (random uuid5 ids included): the least PostgreSQL work that
    ends with these events queryable. Earlier runs copied one sample row N times, whose identical index
    keys made the baseline roughly twice as fast as COPYing real rows.
    """
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{schema}".bench_copy (LIKE "{schema}".email_events INCLUDING ALL)')
        cursor = conn.execute(f'SELECT * FROM "{schema}".email_events ORDER BY seq')
        columns = [c.name for c in cursor.description or []]
        rows = cursor.fetchall()
        started = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor().copy(f'COPY "{schema}".bench_copy ({", ".join(columns)}) FROM STDIN') as cp,
        ):
            for row in rows:
                cp.write_row(row)
        return time.perf_counter() - started


def _load() -> float:
    return os.getloadavg()[0]


def _cell(values: list[float], fmt: str = ",.0f") -> str:
    """Median and min-max of the repeats."""
    return f"{median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def run_batches(args: argparse.Namespace) -> None:
    """Batches of 500: acked events/s, time to queryable, COPY baseline."""
    rows = []
    for repeat in range(args.repeats):
        with _pg_schema() as (schema, url), tempfile.TemporaryDirectory() as tmp:
            server = Server(url, tmp, args.workers)
            try:
                key, public = new_key()
                conn = _sendgrid_connection(server, public)
                target = server.base + conn["webhook_url"]
                requests = [signed(key, events(args.batch, i * args.batch)) for i in range(args.batches)]
                load, cpu = _load(), server.cpu_seconds()
                elapsed, results = _post_from_processes(target, requests, args.processes, args.concurrency)
                acked = sum(r[1] for r in results)
                failures = sum(1 for r in results if r[0] != 200)
                catch_up, all_caught_up = _wait_queryable(server)
                cpu = server.cpu_seconds() - cpu
                baseline = _copy_baseline(schema) if acked else float("nan")
            finally:
                server.stop()
        rate, e2e, copy_rate = acked / elapsed, acked / (elapsed + catch_up), acked / baseline
        cpu_us = cpu / acked * 1e6 if acked else float("nan")
        rows.append((rate, catch_up, all_caught_up, e2e, copy_rate, rate / copy_rate, e2e / copy_rate, cpu_us, load))
        print(f"repeat {repeat + 1}: {acked} events acked in {elapsed:.2f}s ({rate:,.0f}/s), "
              f"queryable {catch_up:.2f}s later, every read model {all_caught_up:.2f}s later, "
              f"COPY baseline {copy_rate:,.0f}/s, {failures} non-200, "
              f"server CPU {cpu_us:.0f} µs/event, load {load:.2f}")  # fmt: skip
    col = [[r[i] for r in rows] for i in range(9)]
    print_table(
        f"Batches of {args.batch}, {args.workers} server worker(s), {args.processes} client processes x "
        f"{args.concurrency} connections (median (min-max) of {args.repeats})",
        ["acked events/s", "queryable after (s)", "all read models after (s)", "end-to-end events/s",
         "COPY baseline events/s", "acked / COPY", "end-to-end / COPY", "server CPU µs/event", "load avg"],
        [[_cell(col[0]), _cell(col[1], ".2f"), _cell(col[2], ".2f"), _cell(col[3]), _cell(col[4]),
          _cell(col[5], ".2f"), _cell(col[6], ".2f"), _cell(col[7]), _cell(col[8], ".1f")]],
    )  # fmt: skip


def run_singles(args: argparse.Namespace) -> None:
    """One event per request: the most the server takes (closed loop), then latency at ``--rate`` (open loop).

    The bare ceiling is the same client against `GET /healthz` on the same server: HTTP and middleware
    without verification or storage.
    """
    rows = []
    for repeat in range(args.repeats):
        with _pg_schema() as (_, url), tempfile.TemporaryDirectory() as tmp:
            server = Server(url, tmp, args.workers)
            try:
                key, public = new_key()
                conn = _sendgrid_connection(server, public)
                target = server.base + conn["webhook_url"]
                load = _load()
                health = [(b"", {})] * args.singles
                bare, bare_results = _post_from_processes(server.base + "/healthz", health, args.processes, 16,
                                                          method="GET")  # fmt: skip
                most = [signed(key, events(1, i)) for i in range(args.singles)]
                cpu = server.cpu_seconds()
                closed, closed_results = _post_from_processes(target, most, args.processes, 16)
                _wait_queryable(server)  # the projection's share of the work is counted too
                cpu_us = (server.cpu_seconds() - cpu) / len(closed_results) * 1e6
                paced = [signed(key, events(1, args.singles + i)) for i in range(int(args.rate * args.seconds))]
                opened, open_results = _post_from_processes(target, paced, args.processes, 32, rate=args.rate)
            finally:
                server.stop()
        latencies = sorted(r[2] for r in open_results if r[0] == 200)
        p = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
        failures = sum(1 for r in [*closed_results, *open_results, *bare_results] if r[0] != 200)
        rows.append((len(bare_results) / bare, len(closed_results) / closed, len(open_results) / opened,
                     p[49] * 1000, p[98] * 1000, failures, load, cpu_us))  # fmt: skip
        print(f"repeat {repeat + 1}: healthz {rows[-1][0]:,.0f} req/s, webhook max {rows[-1][1]:,.0f} req/s; at "
              f"{args.rate:,.0f} req/s offered: {rows[-1][2]:,.0f} done, p50 {rows[-1][3]:.1f} ms, p99 "
              f"{rows[-1][4]:.1f} ms; server CPU {cpu_us:.0f} µs/request; {failures} non-200, "
              f"load {load:.2f}")  # fmt: skip
    col = [[r[i] for r in rows] for i in range(8)]
    print_table(
        f"Single-event requests, {args.workers} server worker(s), {args.processes} client processes (median "
        f"(min-max) of {args.repeats}); open loop at {args.rate:,.0f} req/s for {args.seconds:.0f} s",
        ["healthz req/s (bare)", "webhook max req/s", "webhook / healthz", "server CPU µs/request",
         f"done at {args.rate:,.0f}/s", "p50 ms", "p99 ms", "non-200", "load avg"],
        [[_cell(col[0]), _cell(col[1]), f"{median(col[1]) / median(col[0]):.2f}", _cell(col[7]), _cell(col[2]),
          _cell(col[3], ".1f"), _cell(col[4], ".1f"), sum(col[5]), _cell(col[6], ".1f")]],
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Run both measurements."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=60, help="batches per repeat")
    parser.add_argument("--batch", type=int, default=500, help="events per batch")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--concurrency", type=int, default=4, help="connections per client process (batches)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (tidings serve --workers)")
    parser.add_argument("--singles", type=int, default=3000, help="single-event requests in the closed-loop run")
    parser.add_argument("--rate", type=float, default=1000, help="offered single-event requests/s (open loop)")
    parser.add_argument("--seconds", type=float, default=5, help="length of the open-loop run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["batches", "singles"], help="run one of the two measurements")
    args = parser.parse_args(argv)
    print_machine()
    if args.only != "singles":
        run_batches(args)
    if args.only != "batches":
        run_singles(args)


if __name__ == "__main__":
    main()
