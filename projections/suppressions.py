"""The suppression list read model (ADR 0004 §2): one row per suppressed address; a lift deletes it.

``contact_id`` is the id a contact with that address has or would have (``contact_id_for``), so an
address suppressed before it became a contact is suppressed for that contact from its first moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.email_address import contact_id_for
from domain.suppression import Suppression
from projections.db import Database, Tx
from projections.email_events import stamp
from projections.projection import Projection

TABLE = "suppressions"
S = Suppression
COLUMNS = ("address", "contact_id", "reason", "source", "cause", "suppressed_at")
_UPSERT = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (address) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
)


class SuppressionsProjection(Projection):
    """Suppressed addresses, by address and by contact."""

    name = TABLE
    version = 1
    topics = (get_topic(S.Suppressed), get_topic(S.Lifted))  # type: ignore[attr-defined]

    def create_statements(self, dialect: str) -> Sequence[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (address TEXT PRIMARY KEY, contact_id TEXT NOT NULL, "
            "reason TEXT NOT NULL, source TEXT NOT NULL, cause TEXT, suppressed_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_contact ON {TABLE} (contact_id)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_reason ON {TABLE} (reason, address)",
        ]

    def tables(self) -> Sequence[str]:
        return [TABLE]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        for e in events:
            if isinstance(e, S.Suppressed):  # type: ignore[attr-defined]
                row = (e.address, str(contact_id_for(e.address)), e.reason_code, e.source, e.cause,
                       stamp(e.effective_at))  # fmt: skip
                tx.execute(_UPSERT, row)
            else:
                tx.execute(f"DELETE FROM {TABLE} WHERE address = ?", (e.address,))


# -- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuppressionRow:
    """One suppressed address."""

    address: str
    contact_id: UUID
    reason: str
    source: str
    cause: str | None
    suppressed_at: str


def _row(r: dict[str, Any]) -> SuppressionRow:
    return SuppressionRow(**{**r, "contact_id": UUID(r["contact_id"])})


def get_suppression(db: Database, address: str) -> SuppressionRow | None:
    """The suppression of this normalized address, if it is suppressed."""
    rows = db.query(f"SELECT * FROM {TABLE} WHERE address = ?", (address,))
    return _row(rows[0]) if rows else None


def suppression_of_contact(db: Database, contact_id: UUID) -> SuppressionRow | None:
    """The suppression of the contact's address, if it is suppressed."""
    rows = db.query(f"SELECT * FROM {TABLE} WHERE contact_id = ?", (str(contact_id),))
    return _row(rows[0]) if rows else None


def list_suppressions(
    db: Database, reason: str | None = None, after: str | None = None, limit: int = 100
) -> list[SuppressionRow]:
    """Suppressions in address order after the cursor (an address), optionally of one reason."""
    where, params = "address > ?", [after or ""]
    if reason is not None:
        where += " AND reason = ?"
        params.append(reason)
    rows = db.query(f"SELECT * FROM {TABLE} WHERE {where} ORDER BY address LIMIT ?", (*params, limit))
    return [_row(r) for r in rows]


def snapshot(db: Database) -> list[dict[str, Any]]:
    """Every row, for comparing a rebuilt read model with a live one."""
    return db.query(f"SELECT * FROM {TABLE} ORDER BY address")
