"""The saved-segment catalogue: each segment's current state and every revision of its definition."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.segment import Segment
from projections.db import Database, Tx
from projections.email_events import stamp
from projections.projection import Projection

TABLE = "segments"
REVISIONS = "segments_revisions"


@dataclass(frozen=True)
class SegmentRow:
    """A saved segment as the catalogue holds it."""

    id: UUID
    name: str
    description: str
    definition: dict[str, Any]
    revision: int
    archived: bool
    created_at: str
    updated_at: str
    created_by: str


@dataclass(frozen=True)
class RevisionRow:
    """One revision of a segment's definition."""

    revision: int
    definition: dict[str, Any]
    saved_at: str
    saved_by: str


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class SegmentsProjection(Projection):
    """Segments by id, and their definition revisions."""

    name = TABLE
    version = 1
    topics = tuple(get_topic(c) for c in (Segment.Defined, Segment.Renamed, Segment.Described, Segment.Redefined))
    topics += (get_topic(Segment.Archived),)

    def create_statements(self, dialect: str) -> Sequence[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL, "
            "definition TEXT NOT NULL, revision INTEGER NOT NULL, archived INTEGER NOT NULL, "
            "created_at TEXT NOT NULL, updated_at TEXT NOT NULL, created_by TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {REVISIONS} (segment_id TEXT NOT NULL, revision INTEGER NOT NULL, "
            "definition TEXT NOT NULL, saved_at TEXT NOT NULL, saved_by TEXT NOT NULL, "
            "PRIMARY KEY (segment_id, revision))",
        ]

    def tables(self) -> Sequence[str]:
        return [TABLE, REVISIONS]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        for e in events:
            segment_id, at = str(e.originator_id), stamp(e.timestamp)
            if isinstance(e, Segment.Defined):
                tx.execute(
                    f"INSERT INTO {TABLE} (id, name, description, definition, revision, archived, created_at, "
                    "updated_at, created_by) VALUES (?, ?, ?, ?, 1, 0, ?, ?, ?)",
                    (segment_id, e.name, e.description, _json(e.definition), at, at, e.actor),
                )
                self._revision(tx, segment_id, 1, e.definition, at=at, actor=e.actor)
            elif isinstance(e, Segment.Renamed):
                tx.execute(f"UPDATE {TABLE} SET name = ?, updated_at = ? WHERE id = ?", (e.name, at, segment_id))
            elif isinstance(e, Segment.Described):
                tx.execute(
                    f"UPDATE {TABLE} SET description = ?, updated_at = ? WHERE id = ?", (e.description, at, segment_id)
                )
            elif isinstance(e, Segment.Redefined):
                tx.execute(
                    f"UPDATE {TABLE} SET definition = ?, revision = ?, updated_at = ? WHERE id = ?",
                    (_json(e.definition), e.revision, at, segment_id),
                )
                self._revision(tx, segment_id, e.revision, e.definition, at=at, actor=e.actor)
            elif isinstance(e, Segment.Archived):
                tx.execute(f"UPDATE {TABLE} SET archived = 1, updated_at = ? WHERE id = ?", (at, segment_id))

    @staticmethod
    def _revision(tx: Tx, segment_id: str, revision: int, definition: Any, *, at: str, actor: str) -> None:
        tx.execute(
            f"INSERT INTO {REVISIONS} (segment_id, revision, definition, saved_at, saved_by) VALUES (?, ?, ?, ?, ?)",
            (segment_id, revision, _json(definition), at, actor),
        )


_COLUMNS = "id, name, description, definition, revision, archived, created_at, updated_at, created_by"


def _row(r: dict[str, Any]) -> SegmentRow:
    return SegmentRow(
        id=UUID(r["id"]),
        name=r["name"],
        description=r["description"],
        definition=json.loads(r["definition"]),
        revision=int(r["revision"]),
        archived=bool(r["archived"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        created_by=r["created_by"],
    )


def get_segment(db: Database, segment_id: UUID) -> SegmentRow | None:
    """One segment by id."""
    rows = db.query(f"SELECT {_COLUMNS} FROM {TABLE} WHERE id = ?", (str(segment_id),))
    return _row(rows[0]) if rows else None


def list_segments(db: Database, include_archived: bool = False) -> list[SegmentRow]:
    """Saved segments by name."""
    where = "" if include_archived else " WHERE archived = 0"
    return [_row(r) for r in db.query(f"SELECT {_COLUMNS} FROM {TABLE}{where} ORDER BY name, id")]


def active_segments(db: Database) -> list[SegmentRow]:
    """Segments whose membership is maintained."""
    return list_segments(db)


def revisions(db: Database, segment_id: UUID) -> list[RevisionRow]:
    """Every revision of a segment's definition, oldest first."""
    rows = db.query(
        f"SELECT revision, definition, saved_at, saved_by FROM {REVISIONS} WHERE segment_id = ? ORDER BY revision",
        (str(segment_id),),
    )
    return [RevisionRow(int(r["revision"]), json.loads(r["definition"]), r["saved_at"], r["saved_by"]) for r in rows]
