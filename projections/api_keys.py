"""The API key read model: what authentication and the key listing read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.api_key import ApiKey
from projections.db import Database, Tx
from projections.projection import Projection

TABLE = "api_keys"


@dataclass(frozen=True)
class KeyRow:
    """One key as the read model holds it (never the secret)."""

    id: UUID
    name: str
    role: str
    prefix: str
    created_at: str
    created_by: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        """Whether the key may still authenticate."""
        return self.revoked_at is None


class ApiKeysProjection(Projection):
    """Keys by id and by token hash."""

    name = TABLE
    version = 1
    topics = (get_topic(ApiKey.Issued), get_topic(ApiKey.Renamed), get_topic(ApiKey.Revoked))

    def create_statements(self, dialect: str) -> Sequence[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, "
            "prefix TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, "
            "created_by TEXT NOT NULL, revoked_at TEXT)"
        ]

    def tables(self) -> Sequence[str]:
        return [TABLE]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        # Runs of inserts go in one executemany: one statement per event costs a PostgreSQL round trip each.
        inserts: list[tuple[Any, ...]] = []
        for e in events:
            key_id = str(e.originator_id)
            if isinstance(e, ApiKey.Issued):
                inserts.append((key_id, e.name, e.role, e.prefix, e.token_hash, e.timestamp.isoformat(), e.actor))
                continue
            _insert(tx, inserts)
            inserts = []
            if isinstance(e, ApiKey.Renamed):
                tx.execute(f"UPDATE {TABLE} SET name = ? WHERE id = ?", (e.name, key_id))
            elif isinstance(e, ApiKey.Revoked):
                tx.execute(f"UPDATE {TABLE} SET revoked_at = ? WHERE id = ?", (e.timestamp.isoformat(), key_id))
        _insert(tx, inserts)


def _insert(tx: Tx, rows: list[tuple[Any, ...]]) -> None:
    columns = "id, name, role, prefix, token_hash, created_at, created_by"
    tx.executemany(f"INSERT INTO {TABLE} ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


_COLUMNS = "id, name, role, prefix, created_at, created_by, revoked_at"


def _row(r: dict[str, Any]) -> KeyRow:
    return KeyRow(
        id=UUID(r["id"]),
        name=r["name"],
        role=r["role"],
        prefix=r["prefix"],
        created_at=r["created_at"],
        created_by=r["created_by"],
        revoked_at=r["revoked_at"],
    )


def find_active_by_hash(db: Database, token_hash: str) -> KeyRow | None:
    """The active key with this token hash, if any."""
    rows = db.query(f"SELECT {_COLUMNS} FROM {TABLE} WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,))
    return _row(rows[0]) if rows else None


def get_key(db: Database, key_id: UUID) -> KeyRow | None:
    """One key by id."""
    rows = db.query(f"SELECT {_COLUMNS} FROM {TABLE} WHERE id = ?", (str(key_id),))
    return _row(rows[0]) if rows else None


def list_keys(db: Database, include_revoked: bool = False) -> list[KeyRow]:
    """All keys, oldest first."""
    where = "" if include_revoked else " WHERE revoked_at IS NULL"
    rows = db.query(f"SELECT {_COLUMNS} FROM {TABLE}{where} ORDER BY created_at, id")
    return [_row(r) for r in rows]


def snapshot(db: Database) -> list[dict[str, Any]]:
    """Every row including the hash, for comparing a rebuilt table with a live one."""
    return db.query(f"SELECT * FROM {TABLE} ORDER BY id")
