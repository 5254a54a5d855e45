"""The segment queries: count, keyset-paged members, preview, and membership of given contacts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from projections.db import Database
from projections.segment_engine.compiler import parse
from projections.segment_engine.sql import CONTACT, Sql
from projections.segment_engine.syntax import Resolver

_MEMBER_COLUMNS = ", ".join(f"{CONTACT}.{c}" for c in ("id", "email", "timezone", "locale", "created_at", "attributes"))
MAX_LIMIT = 1000
_AMONG_CHUNK = 500


@dataclass(frozen=True)
class Member:
    """A contact in a segment, with what a member list shows."""

    id: UUID
    email: str
    timezone: str | None
    locale: str | None
    created_at: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class MembersPage:
    """One page of members in id order; ``next_cursor`` is None on the last page."""

    members: list[Member]
    next_cursor: str | None


@dataclass(frozen=True)
class Preview:
    """How many contacts a definition selects, and the first few of them."""

    count: int
    sample: list[Member]


def _where(db: Database, definition: Any, now: datetime, resolver: Resolver | None) -> Sql:
    return parse(definition, resolver).where(db.dialect, now)


def count(db: Database, definition: Any, now: datetime, *, resolver: Resolver | None = None) -> int:
    """How many contacts the definition selects at ``now``."""
    where = _where(db, definition, now, resolver)
    rows = db.query(f"SELECT COUNT(*) AS n FROM contacts {CONTACT} WHERE {where.text}", where.params)
    return int(rows[0]["n"])


def members(
    db: Database,
    definition: Any,
    now: datetime,
    cursor: str | None = None,
    limit: int = 100,
    *,
    resolver: Resolver | None = None,
) -> MembersPage:
    """Members after ``cursor`` (a contact id, exclusive) in id order, at most ``limit``."""
    limit = max(1, min(limit, MAX_LIMIT))
    where = _where(db, definition, now, resolver)
    rows = db.query(
        f"SELECT {_MEMBER_COLUMNS} FROM contacts {CONTACT} WHERE {CONTACT}.id > ? AND {where.text} "
        f"ORDER BY {CONTACT}.id LIMIT ?",
        (cursor or "", *where.params, limit + 1),
    )
    page = [_member(r) for r in rows[:limit]]
    return MembersPage(page, str(page[-1].id) if len(rows) > limit else None)


def preview(
    db: Database, definition: Any, now: datetime, sample: int = 10, *, resolver: Resolver | None = None
) -> Preview:
    """The count and the first ``sample`` members (by id), without saving anything."""
    parsed = parse(definition, resolver)
    return Preview(count(db, parsed, now), members(db, parsed, now, limit=sample).members if sample > 0 else [])


def members_among(
    db: Database,
    definition: Any,
    now: datetime,
    contact_ids: Iterable[UUID | str],
    *,
    resolver: Resolver | None = None,
) -> set[UUID]:
    """Which of ``contact_ids`` the definition selects at ``now`` (for incremental membership upkeep)."""
    parsed = parse(definition, resolver)
    where = parsed.where(db.dialect, now)
    ids = sorted({str(i) for i in contact_ids})
    found: set[UUID] = set()
    for start in range(0, len(ids), _AMONG_CHUNK):
        chunk = ids[start : start + _AMONG_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        rows = db.query(
            f"SELECT {CONTACT}.id FROM contacts {CONTACT} WHERE {CONTACT}.id IN ({marks}) AND {where.text}",
            (*chunk, *where.params),
        )
        found.update(UUID(r["id"]) for r in rows)
    return found


def _member(row: dict[str, Any]) -> Member:
    return Member(
        id=UUID(row["id"]),
        email=row["email"],
        timezone=row["timezone"],
        locale=row["locale"],
        created_at=row["created_at"],
        attributes=json.loads(row["attributes"]) if row["attributes"] else {},
    )
