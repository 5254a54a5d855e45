"""The delivery queue: one row per message of a run, from snapshot to final outcome.

The queue is the worker's working set, not the record: each hand-over's outcome is a ``DeliveryBatch``
event in the store (the audit log). Rows move ``pending → in_flight → sent | failed | skipped`` (or back
to ``pending`` for a retry). Claiming writes a token and a lease on the rows first; the outcome is
recorded under that token, then applied to the rows. After a crash, rows whose lease expired are
recovered by their token: a recorded outcome is applied (nothing is sent again); an unrecorded one puts
the rows back to ``pending`` with the same message ids (see ADR 0005 for the at-least-once window).

Instants are stored as ISO 8601 UTC text of one fixed width so they compare as text on both backends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any
from uuid import UUID

from projections.db import Database, Tx

QUEUE = "delivery_queue"
RUNS = "delivery_runs"
STATUSES = ("pending", "in_flight", "sent", "failed", "skipped")
SNAPSHOT_CHUNK = 5_000


def stamp(moment: datetime) -> str:
    """``moment`` as fixed-width UTC text (sortable as a string)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class QueuedMessage:
    """One message a worker claimed: who gets it and which attempt this is."""

    message_id: UUID
    run_id: UUID
    contact_id: UUID
    email: str
    attempts: int


@dataclass(frozen=True)
class RunRow:
    """A snapshotted run: its campaign, occurrence and whether the worker closed it."""

    run_id: UUID
    campaign_id: UUID
    occurrence: str
    audience: int
    finished: bool


@dataclass(frozen=True)
class Counts:
    """How many of a run's (or campaign's) messages are in each status."""

    pending: int = 0
    in_flight: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        """Every message of the snapshot."""
        return self.pending + self.in_flight + self.sent + self.failed + self.skipped

    @property
    def remaining(self) -> int:
        """Messages not settled yet."""
        return self.pending + self.in_flight


def create_tables(db: Database) -> None:
    """Create the queue tables (idempotent); one statement per transaction (see the runner's setup)."""
    statements = [
        f"CREATE TABLE IF NOT EXISTS {RUNS} (run_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, "
        "occurrence TEXT NOT NULL, audience INTEGER NOT NULL, finished INTEGER NOT NULL DEFAULT 0, "
        "created_at TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {QUEUE} (message_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, "
        "campaign_id TEXT NOT NULL, contact_id TEXT NOT NULL, email TEXT NOT NULL, status TEXT NOT NULL, "
        "attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL, claim TEXT, lease_until TEXT, "
        "provider_message_id TEXT, reason TEXT, updated_at TEXT NOT NULL)",
        # Claims read due messages in (next_attempt_at, message_id) order: with message_id in the index, a claim
        # reads its batch off the index instead of sorting every pending row of the run (O(run) per claim).
        f"CREATE INDEX IF NOT EXISTS {QUEUE}_next ON {QUEUE} (run_id, status, next_attempt_at, message_id)",
        f"DROP INDEX IF EXISTS {QUEUE}_due",
        f"CREATE INDEX IF NOT EXISTS {QUEUE}_claim ON {QUEUE} (claim)",
        f"CREATE INDEX IF NOT EXISTS {QUEUE}_campaign ON {QUEUE} (campaign_id, status)",
    ]
    for statement in statements:
        with db.transaction() as tx:
            tx.execute(statement)


def snapshot(
    db: Database, *, run_id: UUID, campaign_id: UUID, occurrence: datetime,
    recipients: Iterable[tuple[UUID, UUID, str, datetime]], now: datetime, chunk: int = SNAPSHOT_CHUNK,
) -> int:  # fmt: skip
    """Queue ``recipients`` (message id, contact id, email, due instant) for ``run_id`` in one transaction.

    Idempotent: a run already snapshotted keeps its rows and the count it had.
    """
    with db.transaction() as tx:
        existing = tx.execute(f"SELECT audience FROM {RUNS} WHERE run_id = ?", (str(run_id),)).fetchone()
        if existing is not None:
            return int(existing["audience"])
        at, run, campaign = stamp(now), str(run_id), str(campaign_id)
        queued = 0
        # In chunks, so a large audience is never held in memory as rows all at once.
        source = iter(recipients)
        while rows := list(islice(source, chunk)):
            tx.executemany(
                f"INSERT INTO {QUEUE} (message_id, run_id, campaign_id, contact_id, email, status, next_attempt_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(str(m), run, campaign, str(c), email, "pending", stamp(due), at) for m, c, email, due in rows],
            )
            queued += len(rows)
        tx.execute(
            f"INSERT INTO {RUNS} (run_id, campaign_id, occurrence, audience, created_at) VALUES (?, ?, ?, ?, ?)",
            (run, campaign, stamp(occurrence), queued, at),
        )
        return queued


def open_runs(db: Database) -> list[RunRow]:
    """Runs the worker has not closed, oldest first."""
    rows = db.query(f"SELECT * FROM {RUNS} WHERE finished = 0 ORDER BY created_at, run_id")
    return [_run(r) for r in rows]


def runs_of(db: Database, campaign_id: UUID) -> list[RunRow]:
    """Every run of a campaign, oldest first."""
    rows = db.query(f"SELECT * FROM {RUNS} WHERE campaign_id = ? ORDER BY created_at, run_id", (str(campaign_id),))
    return [_run(r) for r in rows]


def _run(r: dict[str, Any]) -> RunRow:
    return RunRow(UUID(r["run_id"]), UUID(r["campaign_id"]), r["occurrence"], r["audience"], bool(r["finished"]))


def close_run(db: Database, run_id: UUID) -> None:
    """Mark the run closed (its outcome is recorded in the store)."""
    with db.transaction() as tx:
        tx.execute(f"UPDATE {RUNS} SET finished = 1 WHERE run_id = ?", (str(run_id),))


def claim(
    db: Database, run_id: UUID, token: UUID, *, now: datetime, lease_until: datetime, limit: int
) -> list[QueuedMessage]:
    """Take up to ``limit`` due pending messages of the run under ``token`` (other workers skip them)."""
    lock = " FOR UPDATE SKIP LOCKED" if db.dialect == "postgres" else ""
    with db.transaction() as tx:
        rows = tx.execute(
            f"SELECT message_id FROM {QUEUE} WHERE run_id = ? AND status = 'pending' AND next_attempt_at <= ? "
            f"ORDER BY next_attempt_at, message_id LIMIT ?{lock}",
            (str(run_id), stamp(now), limit),
        ).fetchall()
        ids = [r["message_id"] for r in rows]
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        claimed = tx.execute(
            f"UPDATE {QUEUE} SET status = 'in_flight', claim = ?, lease_until = ?, updated_at = ? "
            f"WHERE message_id IN ({marks}) RETURNING message_id, run_id, contact_id, email, attempts",
            (str(token), stamp(lease_until), stamp(now), *ids),
        ).fetchall()
    ordered = sorted(claimed, key=lambda r: r["message_id"])
    return [
        QueuedMessage(UUID(r["message_id"]), UUID(r["run_id"]), UUID(r["contact_id"]), r["email"], r["attempts"])
        for r in ordered
    ]


def apply_outcome(
    db: Database, *, token: UUID, now: datetime,
    sent: Sequence[tuple[UUID, str | None]] = (), retry: Sequence[tuple[UUID, str, datetime]] = (),
    failed: Sequence[tuple[UUID, str]] = (), skipped: Sequence[tuple[UUID, str]] = (),
) -> None:  # fmt: skip
    """Write a recorded batch outcome onto the rows still claimed under ``token`` (again: no change)."""
    at, claim_ = stamp(now), str(token)
    with db.transaction() as tx:
        _settle(tx, "sent", [(p, None, at, str(m), claim_) for m, p in sent])
        _settle(tx, "failed", [(None, r, at, str(m), claim_) for m, r in failed])
        _settle(tx, "skipped", [(None, r, at, str(m), claim_) for m, r in skipped])
        tx.executemany(
            f"UPDATE {QUEUE} SET status = 'pending', attempts = attempts + 1, reason = ?, next_attempt_at = ?, "
            "claim = NULL, lease_until = NULL, updated_at = ? WHERE message_id = ? AND claim = ?",
            [(r, stamp(when), at, str(m), claim_) for m, r, when in retry],
        )


def _settle(tx: Tx, status: str, rows: Sequence[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if tx.dialect == "postgres":
        # One statement for the whole batch rather than one per message (the rows share updated_at and claim).
        at, claim_ = rows[0][2], rows[0][4]
        values = ", ".join("(?, ?, ?)" for _ in rows)
        tx.execute(
            f"UPDATE {QUEUE} AS q SET status = '{status}', attempts = q.attempts + 1, provider_message_id = v.p, "
            f"reason = v.r, lease_until = NULL, updated_at = ? FROM (VALUES {values}) AS v (m, p, r) "
            "WHERE q.message_id = v.m AND q.claim = ?",
            (at, *(x for p, r, _, m, _ in rows for x in (m, p, r)), claim_),
        )
        return
    tx.executemany(
        f"UPDATE {QUEUE} SET status = '{status}', attempts = attempts + 1, provider_message_id = ?, reason = ?, "
        "lease_until = NULL, updated_at = ? WHERE message_id = ? AND claim = ?",
        rows,
    )


def expired_claims(db: Database, now: datetime) -> list[UUID]:
    """Tokens of batches whose lease ran out while in flight (their worker died or hung)."""
    rows = db.query(f"SELECT DISTINCT claim FROM {QUEUE} WHERE status = 'in_flight' AND lease_until < ?", (stamp(now),))
    return [UUID(r["claim"]) for r in rows]


def release(db: Database, token: UUID, now: datetime) -> int:
    """Put a dead batch's rows back to pending (same message ids); the number of rows released."""
    with db.transaction() as tx:
        return tx.execute(
            f"UPDATE {QUEUE} SET status = 'pending', claim = NULL, lease_until = NULL, updated_at = ? "
            "WHERE claim = ? AND status = 'in_flight'",
            (stamp(now), str(token)),
        ).rowcount


def skip_pending(db: Database, run_id: UUID, reason: str, now: datetime) -> int:
    """Settle every pending message of the run as skipped (the campaign was cancelled)."""
    with db.transaction() as tx:
        return tx.execute(
            f"UPDATE {QUEUE} SET status = 'skipped', reason = ?, updated_at = ? "
            "WHERE run_id = ? AND status = 'pending'",
            (reason, stamp(now), str(run_id)),
        ).rowcount


def counts(db: Database, *, run_id: UUID | None = None, campaign_id: UUID | None = None) -> Counts:
    """Messages per status of one run or of all a campaign's runs."""
    column, value = ("run_id", run_id) if run_id is not None else ("campaign_id", campaign_id)
    rows = db.query(f"SELECT status, COUNT(*) AS n FROM {QUEUE} WHERE {column} = ? GROUP BY status", (str(value),))
    return Counts(**{r["status"]: int(r["n"]) for r in rows})


def settled_since(db: Database, campaign_id: UUID, since: datetime) -> int:
    """Messages of the campaign handed over for good (sent or failed) since ``since``: the send rate's numerator."""
    rows = db.query(
        f"SELECT COUNT(*) AS n FROM {QUEUE} WHERE campaign_id = ? AND status IN ('sent', 'failed') AND updated_at >= ?",
        (str(campaign_id), stamp(since)),
    )
    return int(rows[0]["n"])


def message_rows(db: Database, run_id: UUID) -> list[dict[str, Any]]:
    """Every row of a run (tests and the per-message report)."""
    return db.query(f"SELECT * FROM {QUEUE} WHERE run_id = ? ORDER BY message_id", (str(run_id),))
