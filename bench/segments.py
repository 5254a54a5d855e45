"""Segment engine on PostgreSQL: the issue's 5-condition nested segment over 1M contacts and 20M events.

The read-model tables (``contacts``, ``contacts_attributes``, ``tags``, ``tags_contacts``,
``contact_activity``, ``contact_event_summary``) are created by their projections and then filled
directly: contacts with COPY from Python, activity rows generated server-side (``INSERT ... SELECT
generate_series``), indexes built after the load, and the summary derived from the activity rows by the
projection's own ``derive`` (one ``INSERT ... SELECT``). This measures the query engine, not ingest (see
bench.ingest and the contacts import benchmark for those paths). A schema kept from before the summary
existed gets it derived once when re-measured with ``--schema``.

Timed, interleaved, after one warm-up each: ``segment_engine.count`` of the definition below, two
hand-written SQL queries of the same meaning (over ``contact_activity`` alone, and using the summary as
the engine does), and ``segment_engine.preview`` (count + 10 members).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench._common import PG_DSN, PG_URL, median, print_machine, print_table
from domain.email_address import contact_id_for
from interfaces.bootstrap import build
from interfaces.config import Settings
from projections import segment_engine
from projections.contact_activity import ContactActivityProjection
from projections.contact_event_summary import TABLE as SUMMARY
from projections.contact_event_summary import derive
from projections.db import Tx
from projections.email_events import stamp

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ROOTS = ("interests", "plan", "region", "source", "lifecycle")
TYPES = (("delivered", 45), ("opened", 30), ("clicked", 12), ("bounced", 5), ("deferred", 5),
         ("unsubscribed", 2), ("complained", 1))  # fmt: skip
CAMPAIGNS = 200
DEFINITION = {
    "and": [
        {"tag": "interests/c1"},
        {"attribute": "age", "op": "between", "value": [25, 40]},
        {"or": [{"not": {"event": "opened", "within_days": 90}}, {"event": "clicked", "campaign": "cmp-7"}]},
    ]
}
HAND_WRITTEN = """
SELECT COUNT(*) FROM contacts c
WHERE c.id IN (SELECT tc.contact_id FROM tags_contacts tc JOIN tags t ON t.id = tc.tag_id
               WHERE t.path = 'interests/c1' OR t.path LIKE 'interests/c1/%%')
  AND c.id IN (SELECT a.contact_id FROM contacts_attributes a
               WHERE a.name = 'age' AND a.kind = 'number' AND a.num_value BETWEEN 25 AND 40)
  AND (NOT EXISTS (SELECT 1 FROM contact_activity e
                   WHERE e.contact_id = c.id AND e.type = 'opened' AND e.occurred_at >= %(since)s)
       OR EXISTS (SELECT 1 FROM contact_activity e
                  WHERE e.contact_id = c.id AND e.type = 'clicked' AND e.campaign_id = 'cmp-7'))
"""
# The same, with "opened in 90 days" read from the latest open, as the engine compiles it.
HAND_WRITTEN_SUMMARY = HAND_WRITTEN.replace(
    """NOT EXISTS (SELECT 1 FROM contact_activity e
                   WHERE e.contact_id = c.id AND e.type = 'opened' AND e.occurred_at >= %(since)s)""",
    """NOT EXISTS (SELECT 1 FROM contact_event_summary s
                   WHERE s.contact_id = c.id AND s.type = 'opened' AND s.last_at >= %(since)s)""",
)


def tag_tree() -> list[tuple[str, str, str | None, str, int]]:
    """50 nodes: 5 roots, 3 children each, 2 grandchildren each: (id, path, parent id, slug, depth)."""
    nodes: list[tuple[str, str, str | None, str, int]] = []
    for root in ROOTS:
        root_id = str(uuid.uuid4())
        nodes.append((root_id, root, None, root, 0))
        for c in range(3):
            child_id, child = str(uuid.uuid4()), f"{root}/c{c}"
            nodes.append((child_id, child, root_id, f"c{c}", 1))
            nodes.extend((str(uuid.uuid4()), f"{child}/g{g}", child_id, f"g{g}", 2) for g in range(2))
    return nodes


def load(conn: psycopg.Connection[Any], contacts: int, events: int) -> None:
    rng = random.Random(7)
    conn.execute("SET maintenance_work_mem = '1GB'")
    started = time.perf_counter()
    tags = tag_tree()
    with conn.cursor().copy("COPY tags (id, path, parent_id, slug, description, metadata, depth, created_at) "
                            "FROM STDIN") as copy:  # fmt: skip
        for tag_id, path, parent, slug, depth in tags:
            copy.write_row((tag_id, path, parent, slug, "", "{}", depth, stamp(NOW - timedelta(days=1000))))
    ids: list[str] = []
    zones, locales = ("Europe/Paris", "America/New_York", "Asia/Tokyo", None), ("en", "fr-FR", "de", None)
    rows: dict[str, list[tuple[Any, ...]]] = {"contacts": [], "contacts_attributes": [], "tags_contacts": []}
    for i in range(contacts):
        email = f"user{i}@domain{i % 500}.example"
        cid = str(contact_id_for(email))
        ids.append(cid)
        age, plan, vip = rng.randint(18, 80), rng.choice(("free", "pro", "team")), rng.random() < 0.1
        created = stamp(NOW - timedelta(seconds=rng.randint(0, 3 * 365 * 86400)))
        attrs = json.dumps({"age": age, "plan": plan, "vip": vip}, sort_keys=True)
        rows["contacts"].append((cid, email, email.rpartition("@")[2], rng.choice(zones), rng.choice(locales), attrs,
                                 created, created))  # fmt: skip
        rows["contacts_attributes"] += [(cid, "age", "number", None, float(age), None),
                                        (cid, "plan", "string", plan, None, None),
                                        (cid, "vip", "boolean", None, float(vip), None)]  # fmt: skip
        rows["tags_contacts"] += [(cid, tag) for tag in {rng.choice(tags)[0] for _ in range(rng.randint(0, 3))}]
    # One COPY at a time: a connection carries one COPY stream.
    for table, table_rows in rows.items():
        with conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
            for row in table_rows:
                copy.write_row(row)
    print(f"contacts, attributes, tags loaded in {time.perf_counter() - started:.0f} s")
    _load_activity(conn, ids, events)
    started = time.perf_counter()
    for statement in ContactActivityProjection().create_statements("postgres"):
        conn.execute(statement)
    print(f"contact_activity indexes built in {time.perf_counter() - started:.0f} s")
    derive_summary(conn)
    started = time.perf_counter()
    conn.execute("VACUUM ANALYZE")
    print(f"tables vacuumed and analyzed in {time.perf_counter() - started:.0f} s")


def derive_summary(conn: psycopg.Connection[Any]) -> None:
    """Fill ``contact_event_summary`` from the activity rows, server-side, as a rebuild would leave it."""
    started = time.perf_counter()
    conn.execute("SET work_mem = '512MB'")  # the derivation sorts 20M rows
    with conn.transaction():
        derive(Tx(conn.cursor(), "postgres"))
    conn.execute("RESET work_mem")
    rows = conn.execute(f"SELECT COUNT(*) FROM {SUMMARY}").fetchone()[0]
    print(f"{SUMMARY}: {rows:,} rows derived in {time.perf_counter() - started:.0f} s")


def _load_activity(conn: psycopg.Connection[Any], ids: list[str], events: int) -> None:
    # Server-side generation: a numbered copy of the contact ids, then one INSERT ... SELECT over a series.
    started = time.perf_counter()
    for index in ("contact_activity_type_time", "contact_activity_contact", "contact_activity_campaign"):
        conn.execute(f"DROP INDEX IF EXISTS {index}")
    conn.execute("CREATE TEMP TABLE numbered (n INTEGER PRIMARY KEY, id TEXT NOT NULL)")
    with conn.cursor().copy("COPY numbered FROM STDIN") as copy:
        for n, cid in enumerate(ids):
            copy.write_row((n, cid))
    cases, low = [], 0
    for kind, weight in TYPES:
        cases.append(f"WHEN r.t < {low + weight} THEN '{kind}'")
        low += weight
    conn.execute(
        f"""
        INSERT INTO contact_activity (id, contact_id, type, campaign_id, occurred_at)
        SELECT md5(g::text)::uuid::text, numbered.id, CASE {" ".join(cases)} END,
               CASE WHEN r.c < {CAMPAIGNS} THEN 'cmp-' || r.c END,
               to_char((%(now)s::timestamptz - r.age) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00'
        FROM generate_series(1, %(events)s) AS g
        CROSS JOIN LATERAL (SELECT (hashint4((g)::int) & 2147483647) %% %(contacts)s AS who,
                             (hashint4((g + 1)::int) & 2147483647) %% {low} AS t,
                             (hashint4((g + 2)::int) & 2147483647) %% {CAMPAIGNS + 10} AS c,
                             make_interval(secs => (hashint4((g + 3)::int) & 2147483647) %% {730 * 86400}) AS age) r
        JOIN numbered ON numbered.n = r.who
        """,
        {"now": NOW, "events": events, "contacts": len(ids)},
    )
    print(f"{events:,} contact_activity rows generated in {time.perf_counter() - started:.0f} s")


def timings(fn: Callable[[], Any], runs: list[float]) -> Any:
    start = time.perf_counter()
    result = fn()
    runs.append(time.perf_counter() - start)
    return result


def measure(db: Any, conn: psycopg.Connection[Any], repeats: int) -> None:
    since = stamp(NOW - timedelta(days=90))
    queries: dict[str, Callable[[], Any]] = {
        "segment_engine.count": lambda: segment_engine.count(db, DEFINITION, NOW),
        "hand-written SQL count (contact_activity)": lambda: conn.execute(HAND_WRITTEN, {"since": since}).fetchone()[0],
        "hand-written SQL count (with the summary)": lambda: conn.execute(
            HAND_WRITTEN_SUMMARY, {"since": since}
        ).fetchone()[0],
        "segment_engine.preview (count + 10)": lambda: segment_engine.preview(db, DEFINITION, NOW, sample=10),
    }
    engine, *hands, _ = queries
    counts = {name: fn() for name, fn in queries.items()}  # the warm-up
    assert counts[engine] == counts[hands[0]] == counts[hands[1]], f"the queries disagree: {counts}"
    runs: dict[str, list[float]] = {name: [] for name in queries}
    load_before = os.getloadavg()[0]
    for _ in range(repeats):
        for name, fn in queries.items():
            timings(fn, runs[name])
    load_after = os.getloadavg()[0]
    ms = lambda xs: f"{median(xs) * 1000:,.0f}"  # noqa: E731
    spread = lambda xs: f"{min(xs) * 1000:,.0f}-{max(xs) * 1000:,.0f}"  # noqa: E731
    ratio = lambda name, hand: f"{median(runs[name]) / median(runs[hand]):.2f}"  # noqa: E731
    print_table(
        f"5-condition segment on PostgreSQL, ms (median of {repeats}; {counts[engine]:,} members; "
        f"load average {load_before:.1f} before, {load_after:.1f} after)",
        ["query", "median ms", "min-max ms", "ratio to hand-written (activity)", "ratio to hand-written (summary)"],
        [[name, ms(xs), spread(xs), ratio(name, hands[0]), ratio(name, hands[1])] for name, xs in runs.items()],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--schema", help="reuse (and keep) a schema loaded by an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="keep the loaded schema for later runs")
    args = parser.parse_args()
    print_machine()
    schema = args.schema or f"bench_seg_{uuid.uuid4().hex[:8]}"
    print(f"schema {schema}: {args.contacts:,} contacts, 50 tags, {args.events:,} events")
    container = build(Settings(data_dir=Path("/tmp") / schema, secret_key="bench",
                               database_url=f"{PG_URL}?schema={schema}"))  # fmt: skip
    try:
        with psycopg.connect(PG_DSN, autocommit=True, options=f"-c search_path={schema}") as conn:
            if not args.schema:
                load(conn, args.contacts, args.events)
            elif conn.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {SUMMARY})").fetchone()[0]:
                derive_summary(conn)  # a schema kept from before the summary existed
                conn.execute(f"VACUUM ANALYZE {SUMMARY}")
            print(f"EXPLAIN of the engine's query:\n{explain(container.db, conn)}")
            measure(container.db, conn, args.repeats)
    finally:
        container.close()
        if not (args.keep or args.schema):
            with psycopg.connect(PG_DSN, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def explain(db: Any, conn: psycopg.Connection[Any]) -> str:
    where = segment_engine.parse(DEFINITION).where(db.dialect, NOW)
    sql = f"EXPLAIN (ANALYZE, COSTS OFF) SELECT COUNT(*) FROM contacts c WHERE {where.text}".replace("?", "%s")
    return "\n".join(r[0] for r in conn.execute(sql, where.params).fetchall())


if __name__ == "__main__":
    main()
