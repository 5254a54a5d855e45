"""The contact import jobs read model: each job's counts and status, and its reported row errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.contact_import import ContactImport, ImportStatus
from projections.db import Database, Tx
from projections.email_events import stamp
from projections.projection import Projection

TABLE = "contact_imports"
ERRORS = "contact_imports_errors"
J = ContactImport
_COUNTS = ("rows_read", "created", "updated", "unchanged", "rejected")


class ContactImportsProjection(Projection):
    """Import jobs by id, newest first in listings."""

    name = TABLE
    version = 1
    topics = tuple(get_topic(getattr(J, n)) for n in ("Started", "Progressed", "Completed", "Failed"))

    def create_statements(self, dialect: str) -> Sequence[str]:
        counts = ", ".join(f"{c} BIGINT NOT NULL DEFAULT 0" for c in _COUNTS)
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id TEXT PRIMARY KEY, format TEXT NOT NULL, source TEXT NOT NULL, "
            f"size_bytes BIGINT NOT NULL, bytes_read BIGINT NOT NULL DEFAULT 0, status TEXT NOT NULL, {counts}, "
            "failure TEXT, started_by TEXT NOT NULL, started_at TEXT NOT NULL, updated_at TEXT NOT NULL, "
            "finished_at TEXT)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_started ON {TABLE} (started_at)",
            f"CREATE TABLE IF NOT EXISTS {ERRORS} (import_id TEXT NOT NULL, row_number BIGINT NOT NULL, "
            "field TEXT, message TEXT NOT NULL, PRIMARY KEY (import_id, row_number))",
        ]

    def tables(self) -> Sequence[str]:
        return [TABLE, ERRORS]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        for e in events:
            job_id, at = str(e.originator_id), stamp(e.timestamp)
            if isinstance(e, J.Started):  # type: ignore[attr-defined]
                tx.execute(
                    f"INSERT INTO {TABLE} (id, format, source, size_bytes, status, started_by, started_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (job_id, e.format, e.source, e.size_bytes, ImportStatus.RUNNING.value, e.actor, at, at),
                )
            elif isinstance(e, J.Progressed):  # type: ignore[attr-defined]
                tx.execute(
                    f"UPDATE {TABLE} SET rows_read = rows_read + ?, created = created + ?, updated = updated + ?, "
                    "unchanged = unchanged + ?, rejected = rejected + ?, bytes_read = ?, updated_at = ? WHERE id = ?",
                    (e.rows, e.created, e.updated, e.unchanged, e.rejected, e.bytes_read, at, job_id),
                )
                tx.executemany(
                    f"INSERT INTO {ERRORS} (import_id, row_number, field, message) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    [(job_id, err["row"], err.get("field"), err["message"]) for err in e.errors],
                )
            else:
                failed = isinstance(e, J.Failed)  # type: ignore[attr-defined]
                tx.execute(
                    f"UPDATE {TABLE} SET status = ?, failure = ?, updated_at = ?, finished_at = ? WHERE id = ?",
                    (ImportStatus.FAILED.value if failed else ImportStatus.COMPLETED.value,
                     e.message if failed else None, at, at, job_id),
                )  # fmt: skip


def _job(r: dict[str, Any], errors: list[dict[str, Any]] | None) -> dict[str, Any]:
    job = dict(r)
    if errors is not None:
        job["errors"] = [{"row": e["row_number"], "field": e["field"], "message": e["message"]} for e in errors]
    return job


def get_import(db: Database, import_id: UUID) -> dict[str, Any] | None:
    """One job with its reported errors (row order)."""
    rows = db.query(f"SELECT * FROM {TABLE} WHERE id = ?", (str(import_id),))
    if not rows:
        return None
    errors = db.query(
        f"SELECT row_number, field, message FROM {ERRORS} WHERE import_id = ? ORDER BY row_number", (str(import_id),)
    )
    return _job(rows[0], errors)


def list_imports(db: Database, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Jobs, newest first (without their errors)."""
    where, params = (" WHERE status = ?", [status]) if status else ("", [])
    rows = db.query(f"SELECT * FROM {TABLE}{where} ORDER BY started_at DESC, id LIMIT ?", (*params, limit))
    return [_job(r, None) for r in rows]
