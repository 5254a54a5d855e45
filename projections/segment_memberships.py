"""Who is in each saved segment, kept up to date as events arrive, with entry times and counts.

The projection reads the contacts, tags, activity and segment read models (``after``), so when it
applies an event those tables already include it. Per batch it collects the contacts the events touch
and re-evaluates only those against every active segment; a new or changed definition, or a tag
catalogue change (paths move under conditions), re-evaluates whole segments in SQL.

Behaviour windows ("opened within 90 days") move with the clock, not with events: ``refresh`` re-evaluates
segments whose definitions depend on time, and the service calls it periodically. Because membership
depends on the time it was evaluated at, a rebuild equals the incremental table only after a refresh
at the same instant (the contract test does exactly that).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from eventsourcing.utils import get_topic

from domain.email_address import contact_id_for, normalize_email
from domain.errors import Invalid
from domain.segment import Segment
from domain.tag_set import TagSet
from domain.webhook_delivery import WebhookDelivery
from projections.db import Database, Tx
from projections.email_events import stamp
from projections.projection import Projection
from projections.segment_engine import parse
from projections.segment_engine.sql import Sql
from projections.segments import TABLE as SEGMENTS

TABLE = "segment_memberships"
COUNTS = "segment_memberships_counts"
TAG_SETS = "segment_memberships_tag_sets"
CHUNK = 500


def _recipients(event: Any) -> Iterable[str]:
    for normalized in getattr(event, "events", None) or ():
        try:
            yield str(contact_id_for(normalize_email(normalized.recipient)))
        except Invalid:
            continue


class SegmentMembershipsProjection(Projection):
    """Members of every active saved segment, maintained incrementally."""

    name = TABLE
    version = 1
    after: ClassVar[tuple[str, ...]] = (
        "contacts", "tags", "contact_activity", "contact_event_summary", SEGMENTS, "preferences", "suppressions",
    )  # fmt: skip
    tick_seconds: ClassVar[float | None] = 300.0

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock

    def create_statements(self, dialect: str) -> Sequence[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (segment_id TEXT NOT NULL, contact_id TEXT NOT NULL, "
            "entered_at TEXT NOT NULL, PRIMARY KEY (segment_id, contact_id))",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_by_contact ON {TABLE} (contact_id)",
            f"CREATE TABLE IF NOT EXISTS {COUNTS} (segment_id TEXT PRIMARY KEY, members BIGINT NOT NULL, "
            "evaluated_at TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {TAG_SETS} (tag_set_id TEXT PRIMARY KEY, contact_id TEXT NOT NULL)",
        ]

    def tables(self) -> Sequence[str]:
        return [TABLE, COUNTS, TAG_SETS]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        touched: set[str] = set()
        whole: set[str] = set()
        everything = False
        for e in events:
            kind = type(e).__qualname__.split(".")[0]
            if isinstance(e, Segment.Archived):
                self._drop(tx, str(e.originator_id))
            elif isinstance(e, Segment.Defined):
                whole.add(str(e.originator_id))
            elif isinstance(e, Segment.Redefined):
                everything = True  # segments referring to this one change meaning too
            elif isinstance(e, WebhookDelivery.Received | WebhookDelivery.Renormalized):
                touched.update(_recipients(e))
            elif kind == "Contact":
                touched.add(str(e.originator_id))
            elif kind == "TagSet":
                touched.update(self._tag_set_contact(tx, e))
            elif kind in ("TagCatalogue", "PreferenceCategory"):  # paths move; a default moves many contacts
                everything = True
            else:
                touched.update(_preference_contacts(kind, e))
        now = self._clock()
        for segment in _active(tx):
            if everything or segment["id"] in whole:
                self._evaluate_all(tx, segment, now)
            elif touched:
                self._evaluate_some(tx, segment, sorted(touched), now)

    def topics_now(self, db: Database) -> tuple[str, ...]:
        # With no active segment, contacts, deliveries and preferences change no membership: only segment
        # events (one may become active: it is then evaluated in full from read models that are at least
        # as far) and tag sets (whose link to their contact later events need) are read. An import of 1M
        # contacts no longer has every one of its events read and decoded here (bench/README §6).
        if db.query(f"SELECT 1 AS one FROM {SEGMENTS} WHERE archived = 0 LIMIT 1"):
            return self.topics
        return _WHILE_IDLE

    def tick(self, db: Database) -> None:
        """Move behaviour windows on: re-evaluate time-dependent segments."""
        self.refresh(db)

    def refresh(self, db: Database, now: datetime | None = None, only_time_dependent: bool = True) -> int:
        """Re-evaluate segments whose meaning moves with the clock; returns how many were evaluated."""
        now = now or self._clock()
        done = 0
        with db.transaction() as tx:
            # Taking the position row first serializes this with the runner's batches for this projection.
            tx.execute("UPDATE projection_positions SET updated_at = updated_at WHERE name = ?", (TABLE,))
            for segment in _active(tx):
                if only_time_dependent and not _time_dependent(segment["definition"]):
                    continue
                self._evaluate_all(tx, segment, now)
                done += 1
        return done

    # -- evaluation -----------------------------------------------------------------------------

    def _members_sql(self, tx: Tx, segment: dict[str, Any], now: datetime) -> Sql:
        definition = parse(json.loads(segment["definition"]), lambda sid: _definition(tx, sid), segment["id"])
        predicate = definition.where(tx.dialect, now)
        return Sql(f"SELECT c.id FROM contacts c WHERE {predicate.text}", predicate.params)

    def _evaluate_all(self, tx: Tx, segment: dict[str, Any], now: datetime) -> None:
        segment_id, at = segment["id"], stamp(now)
        try:
            members = self._members_sql(tx, segment, now)
        except Invalid:
            # A referenced segment changed so that this one no longer compiles: it has no members.
            self._drop(tx, segment_id)
            return
        tx.execute(
            f"DELETE FROM {TABLE} WHERE segment_id = ? AND contact_id NOT IN ({members.text})",
            (segment_id, *members.params),
        )
        tx.execute(
            f"INSERT INTO {TABLE} (segment_id, contact_id, entered_at) SELECT ?, m.id, ? FROM ({members.text}) m "
            # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT, or it parses ON as a join.
            "WHERE 1 = 1 ON CONFLICT (segment_id, contact_id) DO NOTHING",
            (segment_id, at, *members.params),
        )
        self._recount(tx, segment_id, at)

    def _evaluate_some(self, tx: Tx, segment: dict[str, Any], contact_ids: list[str], now: datetime) -> None:
        segment_id, at = segment["id"], stamp(now)
        try:
            members = self._members_sql(tx, segment, now)
        except Invalid:
            self._drop(tx, segment_id)
            return
        for start in range(0, len(contact_ids), CHUNK):
            chunk = contact_ids[start : start + CHUNK]
            marks = ", ".join("?" for _ in chunk)
            inside = {
                r["id"]
                for r in tx.execute(
                    f"SELECT m.id FROM ({members.text}) m WHERE m.id IN ({marks})", (*members.params, *chunk)
                ).fetchall()
            }
            present = {
                r["contact_id"]
                for r in tx.execute(
                    f"SELECT contact_id FROM {TABLE} WHERE segment_id = ? AND contact_id IN ({marks})",
                    (segment_id, *chunk),
                ).fetchall()
            }
            tx.executemany(
                f"INSERT INTO {TABLE} (segment_id, contact_id, entered_at) VALUES (?, ?, ?)",
                [(segment_id, c, at) for c in sorted(inside - present)],
            )
            tx.executemany(
                f"DELETE FROM {TABLE} WHERE segment_id = ? AND contact_id = ?",
                [(segment_id, c) for c in sorted(present - inside)],
            )
        self._recount(tx, segment_id, at)

    @staticmethod
    def _recount(tx: Tx, segment_id: str, at: str) -> None:
        tx.execute(
            f"INSERT INTO {COUNTS} (segment_id, members, evaluated_at) "
            f"SELECT ?, COUNT(*), ? FROM {TABLE} WHERE segment_id = ? "
            "ON CONFLICT (segment_id) DO UPDATE SET members = excluded.members, evaluated_at = excluded.evaluated_at",
            (segment_id, at, segment_id),
        )

    @staticmethod
    def _drop(tx: Tx, segment_id: str) -> None:
        tx.execute(f"DELETE FROM {TABLE} WHERE segment_id = ?", (segment_id,))
        tx.execute(f"DELETE FROM {COUNTS} WHERE segment_id = ?", (segment_id,))

    @staticmethod
    def _tag_set_contact(tx: Tx, event: Any) -> list[str]:
        # Only a tag set's first event names its contact; remember the link for the later ones.
        tag_set_id = str(event.originator_id)
        contact_id = getattr(event, "contact_id", None)
        if contact_id is not None:
            tx.execute(
                f"INSERT INTO {TAG_SETS} (tag_set_id, contact_id) VALUES (?, ?) ON CONFLICT (tag_set_id) DO NOTHING",
                (tag_set_id, str(contact_id)),
            )
            return [str(contact_id)]
        row = tx.execute(f"SELECT contact_id FROM {TAG_SETS} WHERE tag_set_id = ?", (tag_set_id,)).fetchone()
        return [str(row["contact_id"])] if row else []


def _preference_contacts(kind: str, event: Any) -> list[str]:
    # Every preferences event names its contact, every suppression event its address (whose contact id derives).
    if kind == "ContactPreferences":
        return [str(event.contact_id)]
    if kind == "Suppression":
        return [str(contact_id_for(event.address))]
    return []


_WHILE_IDLE = tuple(
    get_topic(cls)
    for cls in (Segment.Defined, Segment.Renamed, Segment.Described, Segment.Redefined, Segment.Archived,  # type: ignore[attr-defined]
                TagSet.Created, TagSet.Tagged, TagSet.Untagged)  # type: ignore[attr-defined]
)  # fmt: skip


def _active(tx: Tx) -> list[dict[str, Any]]:
    return tx.execute(f"SELECT id, definition FROM {SEGMENTS} WHERE archived = 0 ORDER BY id").fetchall()


def _definition(tx: Tx, segment_id: str) -> Any:
    row = tx.execute(f"SELECT definition FROM {SEGMENTS} WHERE id = ?", (segment_id,)).fetchone()
    return json.loads(row["definition"]) if row else None


def _time_dependent(definition_json: str) -> bool:
    # Any behaviour condition with a window relative to now; references may hide one, so they count too.
    return any(key in definition_json for key in ('"within_days"', '"segment"'))


# -- queries ------------------------------------------------------------------------------------------


def member_count(db: Database, segment_id: str) -> tuple[int, str] | None:
    """The maintained member count and when it was last evaluated; None before the first evaluation."""
    rows = db.query(f"SELECT members, evaluated_at FROM {COUNTS} WHERE segment_id = ?", (segment_id,))
    return (int(rows[0]["members"]), rows[0]["evaluated_at"]) if rows else None


def member_page(db: Database, segment_id: str, after: str | None, limit: int) -> list[dict[str, Any]]:
    """Members ordered by contact id, after the keyset cursor ``after``; with email and attributes."""
    where, params = ("AND m.contact_id > ?", (segment_id, after, limit)) if after else ("", (segment_id, limit))
    return db.query(
        f"SELECT c.id, c.email, c.attributes, m.entered_at FROM {TABLE} m JOIN contacts c ON c.id = m.contact_id "
        f"WHERE m.segment_id = ? {where} ORDER BY m.contact_id LIMIT ?",
        params,
    )


def segments_of(db: Database, contact_id: str) -> list[str]:
    """The saved segments a contact is in."""
    rows = db.query(f"SELECT segment_id FROM {TABLE} WHERE contact_id = ? ORDER BY segment_id", (contact_id,))
    return [r["segment_id"] for r in rows]


def snapshot(db: Database) -> list[dict[str, Any]]:
    """Every membership row without entry times, for comparing a rebuild with the live table."""
    return db.query(f"SELECT segment_id, contact_id FROM {TABLE} ORDER BY segment_id, contact_id")
