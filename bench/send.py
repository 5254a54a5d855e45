"""Sending throughput: the delivery worker through an ESP batch API and through SMTP, against a bare loop.

One store (SQLite file or PostgreSQL schema) gets N contacts through the real import path and the ~60 KB
personalized newsletter of ``bench.render`` as a template plus campaign content. Two sinks run in their
own processes, so their CPU is not billed to the sender: ``bench.esp_sink`` (Postmark's ``/email/batch``,
read in bulk) and ``bench.smtp_sink`` (SMTP with DATA read in bulk). Then, per round, a campaign is
approved and scheduled for the first M contacts and **one worker process** (``python -m bench.send
worker``, the container with its projection runner in a thread, as ``tidings deliver`` runs) starts it
(snapshot, untimed) and drains it (timed): messages/s and the worker's peak RSS (``VmHWM``). The SMTP
rounds are interleaved with a **bare aiosmtplib loop** (also its own process) sending pre-rendered
messages of the same newsletter to the same sink over the same number of connections; the ratio is
worker / bare.

    .venv/bin/python -m bench.send --messages 100000 --backend postgres         # rounds of 5,000, then one full run
    .venv/bin/python -m bench.send --messages 20000 --round 2000 --rounds 5 --backend sqlite
    .venv/bin/python -m bench.send worker ... --profile out.prof                # (internal) one worker run
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtplib.email import flatten_message

from bench._common import Target, median, open_target, print_machine, print_table, spread
from bench.render import LINKS, LIQUID, NOW, SETTINGS, contacts, newsletter
from domain.campaign import Campaign
from domain.events import caused_by
from domain.sending_settings import SendingSettings
from interfaces.bootstrap import Container, build
from interfaces.config import Settings
from interfaces.contact_import_files import ImportFile
from interfaces.delivery import queue
from interfaces.delivery.worker import DeliveryWorker, Member, WorkerSettings
from interfaces.process_memory import tune_malloc
from interfaces.rendering import compile_content
from interfaces.transports.base import OutgoingMessage
from projections.contacts import list_contacts

CONCURRENCY = 4  # SMTP connections, for the worker's transport and the bare loop alike
TARGET_ESP = 1_000  # messages/s per worker
TARGET_RATIO = 0.8  # SMTP worker / bare aiosmtplib
TARGET_RSS_MB = 150
SEPARATE = "+separate"  # the name suffix of a path measured with the projections in another process


# -- the store ---------------------------------------------------------------------------------------------


def write_csv(path: Path, count: int) -> None:
    """``count`` contacts with the attributes the newsletter personalizes (first name, city, plan, renewal)."""
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["email", "timezone", "first_name", "city", "plan", "renews"])
        for r in contacts(count):
            a = r.attributes
            out.writerow([r.email, r.timezone or "", a.get("first_name", ""), a.get("city", ""), a["plan"],
                          a["renews"]])  # fmt: skip


def load_contacts(c: Container, count: int) -> float:
    """Import ``count`` contacts through the import path; seconds until the read models caught up."""
    with tempfile.TemporaryDirectory(prefix="tidings-bench-") as tmp:
        path = Path(tmp) / "contacts.csv"
        write_csv(path, count)
        started = time.perf_counter()
        source = ImportFile(path, "csv")
        job = c.contact_imports.start("csv", path.name, source.size)
        job = c.contact_imports.run(job, source.rows(), source.position)
        assert job.created == count, (job.created, job.rejected)
        assert c.runner.wait_for(c.store.head(), timeout=3600)
        return time.perf_counter() - started


def connect(c: Container, name: str, transport: str, settings: dict[str, Any]) -> Any:
    """An ESP connection whose throttle never binds (the benchmark measures the worker, not the limit)."""
    sending = SendingSettings(("example.com",), 10_000.0, CONCURRENCY, transport, settings)
    auth = {"basic_auth": {"username": "bench", "password": "bench-secret-1"}}
    return c.connections.connect(name, "postmark", auth, sending).id


def schedule(c: Container, connection_id: Any, template_id: Any, segment_id: Any, name: str) -> None:
    """An approved campaign of the newsletter, due now."""
    content, _ = newsletter(LIQUID)
    fields = {
        "category": "news", "esp_connection_id": connection_id, "include_segments": [segment_id],
        "from_address": SETTINGS.from_address, "from_name": SETTINGS.from_name, "subject": content.subject,
        "preheader": content.preheader, "html": content.html, "template_id": template_id,
    }  # fmt: skip
    c.settle()
    with caused_by("api_key:bench-editor"):
        campaign = c.campaigns.create(name, fields)
        c.campaigns.submit(campaign.id)
    with caused_by("api_key:bench-approver"):
        c.campaigns.approve(campaign.id, "approver")
        c.campaigns.schedule(campaign.id, datetime.now(UTC) - timedelta(seconds=1))
    c.settle()


def worker_env(target: Target, data_dir: Path) -> dict[str, str]:
    """The environment a worker process needs to open the same store."""
    url = target.container.settings.database
    return {**os.environ, "TIDINGS_DATABASE_URL": url, "TIDINGS_DATA_DIR": str(data_dir),
            "TIDINGS_SECRET_KEY": "bench", "TIDINGS_LOG_LEVEL": "WARNING"}  # fmt: skip


# -- sinks and child processes -----------------------------------------------------------------------------


@contextmanager
def sink(module: str) -> Iterator[tuple[int, dict[str, int]]]:
    """A sink process; yields its port and, after it stops, its totals."""
    proc = subprocess.Popen([sys.executable, "-m", module], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline().split()[1])
    totals: dict[str, int] = {}
    try:
        yield port, totals
    finally:
        proc.terminate()
        words = proc.stdout.read().split()
        proc.wait(10)
        totals.update({words[i]: int(words[i + 1]) for i in range(0, len(words) - 1, 2)})


def child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``python -m bench.send <args>`` and read the JSON line it prints last."""
    done = subprocess.run([sys.executable, "-m", "bench.send", *args], env=env, capture_output=True, text=True,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"bench.send {args[0]} failed:\n{done.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (``VmHWM``).

    Not ``ru_maxrss``: Linux carries that across fork and exec, so a worker started by the bench's parent
    (which holds the imported contacts, ~110 MB at 100,000) reported the parent's peak as its own.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


# -- one worker process --------------------------------------------------------------------------------------


def first_contacts(count: int) -> Any:
    """An audience source: the first ``count`` contacts by id (targeting has its own benchmark)."""

    def audience(container: Container, campaign: Campaign, now: datetime) -> tuple[Iterable[Member], dict[str, int]]:
        del campaign, now
        container.settle()

        def stream() -> Iterator[Member]:
            # Streamed like the real targeting (interfaces.delivery.targeting): a list of 100,000 members
            # would be ~40 MB of the worker's peak that production never holds.
            left, after = count, None
            while left > 0 and (page := list_contacts(container.db, after=after, limit=min(1000, left))):
                yield from (Member(r.id, r.email, r.timezone) for r in page)
                left, after = left - len(page), page[-1].id

        return stream(), {}

    return audience


def run_worker(messages: int, batch: int, profile: str | None, inline: bool = True) -> dict[str, Any]:
    """Start the due campaign (untimed), then drain it (timed) in this process (with the projection runner in
    a thread when ``inline``; otherwise another process runs the projections, as ``tidings worker`` does)."""
    tune_malloc()  # as the `tidings` command does at start
    settings = Settings.from_env()
    container = build(settings)
    if inline:
        container.runner.start()
    try:
        worker = DeliveryWorker(container, first_contacts(messages), settings=WorkerSettings(batch_size=batch))
        worker.start_due(datetime.now(UTC))
        runs = queue.open_runs(container.db)
        rss_started = peak_rss_mb()  # the snapshot's share of the peak

        async def drain() -> float:
            started = time.perf_counter()
            await worker.drain()
            seconds = time.perf_counter() - started
            await worker.aclose()
            return seconds

        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        seconds = asyncio.run(drain())
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)  # type: ignore[arg-type]
        counts = {k: sum(getattr(queue.counts(container.db, run_id=r.run_id), k) for r in runs)
                  for k in queue.STATUSES}  # fmt: skip
    finally:
        container.close()
    return {"seconds": seconds, "rss_mb": peak_rss_mb(), "rss_started_mb": rss_started, "counts": counts}


# -- the bare loop -------------------------------------------------------------------------------------------


def run_bare(port: int, messages: int, concurrency: int) -> dict[str, Any]:
    """Send ``messages`` pre-rendered copies of the newsletter over ``concurrency`` aiosmtplib connections."""
    content, layout = newsletter(LIQUID)
    compiled = compile_content(content, layout)
    prepared = []
    render_s = mime_s = 0.0
    for r in contacts(200):  # rendered and flattened before the clock starts, then reused in turn
        t0 = time.perf_counter()
        out = compiled.render(r, settings=SETTINGS, links=LINKS, now=NOW)
        message = OutgoingMessage(r.id, r.id, r.id, out.headers["From"], r.email, out.subject, out.html, out.text,
                                  {k: v for k, v in out.headers.items() if k not in ("To", "From")})  # fmt: skip
        t1 = time.perf_counter()
        data = flatten_message(message.mime(), cte_type="8bit")  # what the SMTP transport does per message
        render_s, mime_s = render_s + t1 - t0, mime_s + time.perf_counter() - t1
        prepared.append((message.sender, r.email, data))

    async def sender(next_index: Iterator[int]) -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, use_tls=False)
        await client.connect()
        for i in next_index:
            frm, to, data = prepared[i % len(prepared)]
            await client.sendmail(frm, [to], data, mail_options=["BODY=8BITMIME"])
        await client.quit()

    async def main() -> float:
        shared = iter(range(messages))
        started = time.perf_counter()
        await asyncio.gather(*(sender(shared) for _ in range(concurrency)))
        return time.perf_counter() - started

    seconds = asyncio.run(main())
    per = 1e6 / len(prepared)
    return {"seconds": seconds, "rss_mb": peak_rss_mb(), "render_us": render_s * per, "mime_us": mime_s * per}


# -- the whole benchmark -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Build the store and the sinks, run the rounds, print the tables."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["worker"]:
        p = argparse.ArgumentParser()
        p.add_argument("worker")
        p.add_argument("--messages", type=int, required=True)
        p.add_argument("--batch", type=int, default=500)
        p.add_argument("--profile")
        p.add_argument("--projections", choices=["inline", "separate"], default="inline")
        a = p.parse_args(argv)
        print(json.dumps(run_worker(a.messages, a.batch, a.profile, a.projections == "inline")))
        return
    if argv[:1] == ["bare"]:
        p = argparse.ArgumentParser()
        p.add_argument("bare")
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--messages", type=int, required=True)
        p.add_argument("--concurrency", type=int, default=CONCURRENCY)
        a = p.parse_args(argv)
        print(json.dumps(run_bare(a.port, a.messages, a.concurrency)))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000, help="contacts, and the size of the full run")
    parser.add_argument("--round", type=int, default=5_000, help="messages per timed round (medians)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per path")
    parser.add_argument("--batch", type=int, default=100, help="the worker's batch size (its default)")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--full", choices=["all", "esp", "none"], default="all",
                        help="paths of the full-size run (SMTP at ~100 msg/s makes 100k a long wait)")  # fmt: skip
    parser.add_argument("--profile", help="profile the worker of the first ESP round into this file")
    parser.add_argument("--projections", choices=["inline", "separate", "both"], default="inline",
                        help="where the projections run while the worker sends: in its process (a thread, as "
                        "`tidings deliver` on the embedded default) or in another (as beside "
                        "`tidings worker`)")  # fmt: skip
    args = parser.parse_args(argv)
    print_machine()
    with open_target(args.backend) as target, sink("bench.esp_sink") as (esp_port, esp_totals), \
            sink("bench.smtp_sink") as (smtp_port, smtp_totals):  # fmt: skip
        rows = measure(target, args, esp_port, smtp_port)
    print(f"sinks took: ESP {esp_totals}, SMTP {smtp_totals}")
    print_table(
        f"Sending, {args.backend}: one worker process, ~60 KB personalized newsletter (load {os.getloadavg()[0]:.2f})",
        ["path", "messages", "rounds", "messages/s (median)", "min-max", "worker peak RSS MB", "ratio", "target"],
        rows,
    )


def measure(target: Target, args: argparse.Namespace, esp_port: int, smtp_port: int) -> list[list[Any]]:
    """Contacts, template, connections; then the interleaved rounds and the full-size runs."""
    c = target.container
    c.runner.start()
    loaded = load_contacts(c, args.messages)
    print(f"{args.messages:,} contacts imported and queryable in {loaded:.1f}s", flush=True)
    _, layout = newsletter(LIQUID)
    template_id = c.templates.create("Weekly", layout.html).id
    c.preferences.define_category("news", "News")
    segment_id = c.segments.define("Everyone", "", {"attribute": "plan", "op": "exists"}).id
    esp = connect(c, "ESP sink", "postmark", {"server_token": "bench", "base_url": f"http://127.0.0.1:{esp_port}"})
    smtp = connect(c, "SMTP sink", "smtp", {"host": "127.0.0.1", "port": smtp_port, "security": "none"})
    c.settle()
    env = worker_env(target, c.settings.data_dir)
    modes = ["inline", "separate"] if args.projections == "both" else [args.projections]
    results: dict[str, list[dict[str, Any]]] = {f"{p}{SEPARATE * (m == 'separate')}": [] for p in ("esp", "smtp")
                                                for m in modes}  # fmt: skip
    results["bare"] = []
    sizes = [("round", args.round)] * args.rounds + ([] if args.full == "none" else [("full", args.messages)])
    for n, (kind, size) in enumerate(sizes):
        smtp_too = kind == "round" or args.full == "all"
        for path, connection in (("esp", esp), ("smtp", smtp))[: 2 if smtp_too else 1]:
            for mode in modes:
                name = f"{path}{SEPARATE * (mode == 'separate')}"
                schedule(c, connection, template_id, segment_id, f"{name} {n}")
                if mode == "inline":
                    c.runner.stop()  # the worker runs the projections while it sends, as `tidings deliver` does
                # else this process goes on running them beside the worker, as `tidings worker` would
                extra = ["--profile", args.profile] if args.profile and n == 0 and name == "esp" else []
                got = child(["worker", "--messages", str(size), "--batch", str(args.batch),
                             "--projections", mode, *extra], env)  # fmt: skip
                started = time.perf_counter()
                c.runner.start()
                c.settle()
                got["queryable_s"] = time.perf_counter() - started
                assert got["counts"].get("sent") == size, got["counts"]
                results[name].append({"kind": kind, "size": size, **got})
                print(f"{kind} {name}: {size / got['seconds']:,.0f} msg/s, RSS {got['rss_mb']:.0f} MB "
                      f"({got['rss_started_mb']:.0f} MB after the snapshot), projections caught up "
                      f"{got['queryable_s']:.1f}s after the last hand-over", flush=True)  # fmt: skip
        if not smtp_too:
            continue
        got = child(["bare", "--port", str(smtp_port), "--messages", str(size)])
        results["bare"].append({"kind": kind, "size": size, **got})
        print(f"{kind} bare: {size / got['seconds']:,.0f} msg/s (outside the clock, per message: render "
              f"{got['render_us']:,.0f} µs, MIME build + flatten {got['mime_us']:,.0f} µs)", flush=True)  # fmt: skip
    c.runner.stop()
    return table_rows(results)


def _ratio(rates: dict[str, list[float]], path: str) -> str:
    # Round by round against the bare loop run right after it, median of those.
    pairs = [s / b for s, b in zip(rates.get(path, []), rates["bare"], strict=False)]
    return f"{median(pairs):.2f} of bare" if pairs else ""


def table_rows(results: dict[str, list[dict[str, Any]]]) -> list[list[Any]]:
    """One row per path and size: medians of the rounds, the full run on its own."""
    rows = []
    for kind in ("round", "full"):
        rates = {p: [r["size"] / r["seconds"] for r in results[p] if r["kind"] == kind] for p in results}
        seen = [r["size"] for runs in results.values() for r in runs if r["kind"] == kind]
        if not seen:
            continue
        size = seen[0]
        apart = " (projections in another process)"
        esp, smtp = "worker → ESP batch API (Postmark shape)", "worker → SMTP transport"
        for path, label, how, target in (
            ("esp", esp, "", f"≥ {TARGET_ESP:,} msg/s"),
            (f"esp{SEPARATE}", esp + apart, "", f"≥ {TARGET_ESP:,} msg/s"),
            ("smtp", smtp, _ratio(rates, "smtp"), f"≥ {TARGET_RATIO} of bare"),
            (f"smtp{SEPARATE}", smtp + apart, _ratio(rates, f"smtp{SEPARATE}"), f"≥ {TARGET_RATIO} of bare"),
            ("bare", "bare aiosmtplib loop, pre-rendered", "1.00", ""),
        ):
            if not rates.get(path):
                continue
            rss = f"{max(r['rss_mb'] for r in results[path] if r['kind'] == kind):.0f}"
            rss += "" if path == "bare" else f" (≤ {TARGET_RSS_MB})"
            rows.append([label, f"{size:,}", len(rates[path]), f"{median(rates[path]):,.0f}", spread(rates[path]),
                         rss, how, target])  # fmt: skip
    return rows


if __name__ == "__main__":
    main()
