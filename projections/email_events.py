"""Normalized email events, de-duplicated, and the quarantine of items that could not be normalized.

An event's id is uuid5(connection, dedup key), so a re-delivered event (same ESP event id, or the same
canonical content) maps to the row already there: the first copy wins, whichever process stored it.
A ``Renormalized`` delivery (an adapter was fixed) overwrites its events' fields and replaces its
quarantined items. ``seq`` orders rows for cursors and for consumers that follow them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha1
from typing import Any
from uuid import UUID, uuid5

import msgspec
from eventsourcing.utils import get_topic

from domain.email_event import NormalizedEvent
from domain.webhook_delivery import WebhookDelivery
from projections.db import Database, Tx
from projections.projection import Projection

TABLE = "email_events"
QUARANTINE = "email_events_quarantine"
W = WebhookDelivery

COLUMNS = (
    "id", "connection_id", "delivery_id", "dedup_key", "type", "provider_event_type", "recipient",
    "provider_message_id", "provider_event_id", "bounce_class", "occurred_at", "received_at", "click_url",
    "reason", "smtp_code", "machine_open", "user_agent", "ip", "metadata",
)  # fmt: skip
_FIXED = ("id", "connection_id", "delivery_id", "dedup_key", "received_at")
_PLACEHOLDERS = ", ".join("?" for _ in COLUMNS)
_UPSERT = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({_PLACEHOLDERS}) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c not in _FIXED)
)


_metadata_json = msgspec.json.Encoder(order="sorted").encode


def event_id(connection_id: UUID, key: str) -> UUID:
    """The stable id of a normalized event."""
    return uuid5(connection_id, key)


def stamp(moment: datetime) -> str:
    """Fixed-width UTC text (always microseconds, always +00:00), so string order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class EmailEventsProjection(Projection):
    """Normalized events and quarantined items from webhook deliveries."""

    name = TABLE
    version = 1
    topics = (get_topic(W.Received), get_topic(W.Renormalized))  # type: ignore[attr-defined]

    def create_statements(self, dialect: str) -> Sequence[str]:
        seq = "seq BIGSERIAL PRIMARY KEY" if dialect == "postgres" else "seq INTEGER PRIMARY KEY AUTOINCREMENT"
        texts = ", ".join(f"{c} TEXT" for c in COLUMNS[1:] if c != "machine_open")
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} ({seq}, id TEXT NOT NULL UNIQUE, {texts}, machine_open INTEGER)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_recipient ON {TABLE} (recipient, seq)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_message ON {TABLE} (provider_message_id)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_connection ON {TABLE} (connection_id, seq)",
            f"CREATE TABLE IF NOT EXISTS {QUARANTINE} (id TEXT PRIMARY KEY, delivery_id TEXT NOT NULL, "
            "connection_id TEXT NOT NULL, provider TEXT NOT NULL, reason TEXT NOT NULL, item TEXT, "
            "received_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {QUARANTINE}_delivery ON {QUARANTINE} (delivery_id)",
        ]

    def tables(self) -> Sequence[str]:
        return [TABLE, QUARANTINE]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        # Consecutive Received events are written with one COPY-staged insert: the hot path during intake.
        pending: list[tuple[Any, ...]] = []
        stamps = _Stamps()
        for e in events:
            received_at = stamps(e.timestamp)
            rows = _rows(e.connection_id, e.originator_id, e.events, received_at, stamps)
            if isinstance(e, W.Received):  # type: ignore[attr-defined]
                pending.extend(rows)
            else:
                _insert(tx, pending)
                pending = []
                tx.executemany(_UPSERT, rows)
                tx.execute(f"DELETE FROM {QUARANTINE} WHERE delivery_id = ?", (str(e.originator_id),))
                # Events the newer adapter no longer finds go, where this delivery's copy is the stored one.
                # (Renormalized events recorded before ``dropped`` existed carry none.)
                gone = [(_uuid5_text(e.connection_id.bytes, k), str(e.originator_id)) for k in dropped_keys(e)]
                tx.executemany(f"DELETE FROM {TABLE} WHERE id = ? AND delivery_id = ?", gone)
            if e.quarantined:
                _quarantine(tx, e, received_at)
        _insert(tx, pending)


def dropped_keys(renormalized: Any) -> list[str]:
    """Dedup keys of the events a ``Renormalized`` delivery no longer holds."""
    return list(getattr(renormalized, "dropped", None) or [])


class _Stamps(dict[datetime, str]):
    """``stamp`` memoized for one batch: the events of a delivery mostly share a handful of instants."""

    def __missing__(self, moment: datetime) -> str:
        text = self[moment] = stamp(moment)
        return text

    def __call__(self, moment: datetime) -> str:
        return self[moment]


def _insert(tx: Tx, rows: list[tuple[Any, ...]]) -> None:
    tx.insert_new(TABLE, COLUMNS, rows)


def _rows(
    connection_id: UUID, delivery_id: UUID, events: Sequence[NormalizedEvent], received_at: str, stamps: _Stamps
) -> list[tuple[Any, ...]]:
    # The per-delivery values are computed once; ids are hashed without building UUID objects.
    connection, delivery, namespace = str(connection_id), str(delivery_id), connection_id.bytes
    return [
        (_uuid5_text(namespace, n.key), connection, delivery, n.key, n.type.value, n.provider_event_type,
         n.recipient, n.provider_message_id, n.provider_event_id, n.bounce_class.value if n.bounce_class else None,
         stamps[n.occurred_at], received_at, n.click_url, n.reason, n.smtp_code,
         None if n.machine_open is None else int(n.machine_open), n.user_agent, n.ip,
         _metadata_json(n.metadata).decode() if n.metadata else "{}")
        for n in events
    ]  # fmt: skip


def _uuid5_text(namespace: bytes, name: str) -> str:
    """``str(uuid5(UUID(bytes=namespace), name))`` at a quarter of the cost (no UUID objects)."""
    digest = bytearray(sha1(namespace + name.encode(), usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _quarantine(tx: Tx, e: Any, received_at: str) -> None:
    rows = [
        (str(uuid5(e.originator_id, f"{e.originator_version}:{i}")), str(e.originator_id), str(e.connection_id),
         e.provider, q["reason"], json.dumps(q.get("item"), default=str), received_at)
        for i, q in enumerate(e.quarantined)
    ]  # fmt: skip
    tx.executemany(f"INSERT INTO {QUARANTINE} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


@dataclass(frozen=True)
class EmailEventFilter:
    """What ``list_events`` may filter on; ``after`` is the cursor (a ``seq``)."""

    connection_id: UUID | None = None
    recipient: str | None = None
    type: str | None = None
    provider_message_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: int = 0
    limit: int = 100


_SELECT = f"SELECT seq, {', '.join(COLUMNS)} FROM {TABLE}"


def list_events(db: Database, f: EmailEventFilter) -> list[dict[str, Any]]:
    """Matching events in ``seq`` order after the cursor, at most ``limit``."""
    clauses, params = ["seq > ?"], [f.after]
    for column, value in (
        ("connection_id", str(f.connection_id) if f.connection_id else None),
        ("recipient", f.recipient.strip().lower() if f.recipient else None),
        ("type", f.type),
        ("provider_message_id", f.provider_message_id),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if f.since:
        clauses.append("occurred_at >= ?")
        params.append(stamp(f.since))
    if f.until:
        clauses.append("occurred_at < ?")
        params.append(stamp(f.until))
    sql = f"{_SELECT} WHERE {' AND '.join(clauses)} ORDER BY seq LIMIT ?"
    return [_decoded(r) for r in db.query(sql, (*params, f.limit))]


def get_event(db: Database, event_uuid: UUID) -> dict[str, Any] | None:
    """One normalized event by id."""
    rows = db.query(f"{_SELECT} WHERE id = ?", (str(event_uuid),))
    return _decoded(rows[0]) if rows else None


def list_quarantine(db: Database, after: str = "", limit: int = 100) -> list[dict[str, Any]]:
    """Quarantined items, newest deliveries last, paged by id."""
    rows = db.query(
        f"SELECT * FROM {QUARANTINE} WHERE id > ? ORDER BY id LIMIT ?",
        (after, limit),
    )
    return [{**r, "item": json.loads(r["item"]) if r["item"] else None} for r in rows]


def count_events(db: Database) -> int:
    """How many normalized events are stored."""
    return int(db.query(f"SELECT COUNT(*) AS n FROM {TABLE}")[0]["n"])


def _decoded(r: dict[str, Any]) -> dict[str, Any]:
    out = dict(r)
    out["metadata"] = json.loads(r["metadata"]) if r["metadata"] else {}
    out["machine_open"] = None if r["machine_open"] is None else bool(r["machine_open"])
    return out
