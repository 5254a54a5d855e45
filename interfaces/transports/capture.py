"""The built-in capture outbox: messages are kept in the database instead of leaving the machine.

It is the embedded default's transport, so a newcomer can run a whole campaign on one machine and read
what was "sent" through the API (``GET /api/v1/outbox``). The outbox is keyed by our message id, so a
message handed over twice (a worker that crashed after sending, before recording it) is kept once; the
``attempts`` column counts the hand-overs, which makes exactly-once delivery visible in tests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from interfaces.transports.base import Outcome, OutgoingMessage, SendResult
from projections.db import Database

TABLE = "capture_outbox"


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """Nothing to configure: the outbox lives in Tidings' own database."""


@dataclass(frozen=True)
class Captured:
    """One message as the outbox holds it."""

    message_id: UUID
    campaign_id: UUID
    contact_id: UUID
    run_id: UUID | None
    sender: str
    to: str
    subject: str
    html: str
    text: str
    headers: dict[str, str]
    attempts: int
    captured_at: str


def create_table(db: Database) -> None:
    """Create the outbox table (idempotent)."""
    with db.transaction() as tx:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, "
            "contact_id TEXT NOT NULL, run_id TEXT, sender TEXT NOT NULL, recipient TEXT NOT NULL, "
            "subject TEXT NOT NULL, html TEXT NOT NULL, text TEXT NOT NULL, headers TEXT NOT NULL, "
            "attempts INTEGER NOT NULL, captured_at TEXT NOT NULL)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_campaign ON {TABLE} (campaign_id, id)")


class CaptureTransport:
    """Keeps every message in the ``capture_outbox`` table."""

    max_batch = 500

    def __init__(self, db: Database) -> None:
        self._db = db
        create_table(db)

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        await asyncio.to_thread(self._store, messages)
        return [SendResult(m.message_id, Outcome.SENT, provider_message_id=m.rfc_message_id) for m in messages]

    def _store(self, messages: Sequence[OutgoingMessage]) -> None:
        at = datetime.now(UTC).isoformat()
        rows = [
            (
                str(m.message_id), str(m.campaign_id), str(m.contact_id), str(m.run_id) if m.run_id else None,
                m.from_address, m.to, m.subject, m.html, m.text, json.dumps(m.all_headers()), 1, at,
            )
            for m in messages
        ]  # fmt: skip
        with self._db.transaction() as tx:
            tx.executemany(
                f"INSERT INTO {TABLE} (id, campaign_id, contact_id, run_id, sender, recipient, subject, html, text, "
                "headers, attempts, captured_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                f"ON CONFLICT (id) DO UPDATE SET attempts = {TABLE}.attempts + 1",
                rows,
            )

    async def aclose(self) -> None:
        return None


def create(settings: Settings, *, db: Database) -> CaptureTransport:
    """A capture transport writing into ``db``."""
    del settings
    return CaptureTransport(db)


def _captured(r: dict[str, Any]) -> Captured:
    return Captured(
        UUID(r["id"]), UUID(r["campaign_id"]), UUID(r["contact_id"]), UUID(r["run_id"]) if r["run_id"] else None,
        r["sender"], r["recipient"], r["subject"], r["html"], r["text"], json.loads(r["headers"]), r["attempts"],
        r["captured_at"],
    )  # fmt: skip


def list_captured(
    db: Database, campaign_id: UUID | None = None, after: UUID | None = None, limit: int = 100
) -> list[Captured]:
    """Captured messages in id order, optionally of one campaign, after a cursor."""
    clauses, params = [], []
    if campaign_id is not None:
        clauses.append("campaign_id = ?")
        params.append(str(campaign_id))
    if after is not None:
        clauses.append("id > ?")
        params.append(str(after))
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = db.query(f"SELECT * FROM {TABLE} {where} ORDER BY id LIMIT ?", (*params, limit))
    return [_captured(r) for r in rows]


def get_captured(db: Database, message_id: UUID) -> Captured | None:
    """One captured message."""
    rows = db.query(f"SELECT * FROM {TABLE} WHERE id = ?", (str(message_id),))
    return _captured(rows[0]) if rows else None
