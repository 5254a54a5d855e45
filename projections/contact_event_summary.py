"""Each contact's latest email event of each type: what "opened within 90 days" and its ``not`` read.

One row per (type, contact) with at least one event of that type in ``contact_activity``: when the latest
one occurred and its id. A behaviour condition that only asks whether the contact has an event of a type
at or after some instant (``{"event": "opened", "within_days": 90}``, no campaign, no ``until``, at least
one) is then one probe of this small table, not a range probe into every event (ADR 0003 §4).

The rows are derived from ``contact_activity`` (``after``), never from the events' own fields, so they
follow its linking, de-duplication and re-normalization exactly. A ``Received`` delivery only adds rows,
so each pair's latest moves forward to the batch's latest row of that pair, if later. A ``Renormalized``
delivery may move a row to another contact or type, re-time it or drop it: the pairs its rows now belong
to are recomputed from ``contact_activity``, and so is every pair whose latest was one of its rows (which
``last_id`` records), removed when it has no row left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.webhook_delivery import WebhookDelivery
from projections.contact_activity import TABLE as ACTIVITY
from projections.contact_activity import ContactActivityProjection
from projections.db import Tx
from projections.email_events import dropped_keys, event_id
from projections.projection import Projection

TABLE = "contact_event_summary"
COLUMNS = ("type", "contact_id", "last_at", "last_id")
W = WebhookDelivery
_CHUNK = 500

# The latest row of a pair: by time, then id, so a rebuild picks the same row among equal times.
_LATEST = (
    f"SELECT l.id FROM {ACTIVITY} l WHERE l.contact_id = p.contact_id AND l.type = p.type "
    "ORDER BY l.occurred_at DESC, l.id DESC LIMIT 1"
)
# "WHERE 1 = 1": SQLite would otherwise read ON CONFLICT as the join's constraint.
_REFRESH = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) SELECT a.type, a.contact_id, a.occurred_at, a.id "
    f"FROM (SELECT p.type, p.contact_id, ({_LATEST}) AS latest FROM ({{pairs}}) p) t "
    f"JOIN {ACTIVITY} a ON a.id = t.latest WHERE 1 = 1 "
    "ON CONFLICT (type, contact_id) DO UPDATE SET last_at = excluded.last_at, last_id = excluded.last_id "
    f"WHERE {TABLE}.last_id <> excluded.last_id OR {TABLE}.last_at <> excluded.last_at"
)
# Received deliveries only add rows, so a pair's latest can only move to one of the batch's own rows: the
# batch's latest per pair replaces the stored one when later (by time, then id), with no probe per pair.
_ADVANCE = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) SELECT type, contact_id, occurred_at, id FROM "
    "(SELECT type, contact_id, occurred_at, id, ROW_NUMBER() OVER "
    f"(PARTITION BY type, contact_id ORDER BY occurred_at DESC, id DESC) AS n FROM {ACTIVITY} "
    "WHERE id IN ({marks})) batch WHERE n = 1 "
    "ON CONFLICT (type, contact_id) DO UPDATE SET last_at = excluded.last_at, last_id = excluded.last_id "
    f"WHERE (excluded.last_at, excluded.last_id) > ({TABLE}.last_at, {TABLE}.last_id)"
)
_PAIRS_OF_ROWS = f"SELECT DISTINCT type, contact_id FROM {ACTIVITY} WHERE id IN ({{marks}})"
_PAIRS_OF_LATEST = f"SELECT type, contact_id FROM {TABLE} WHERE last_id IN ({{marks}})"
# A pair whose latest row went and that has no row left.
_EMPTIED = (
    f"DELETE FROM {TABLE} WHERE last_id IN ({{marks}}) AND NOT EXISTS (SELECT 1 FROM {ACTIVITY} a "
    f"WHERE a.id = {TABLE}.last_id AND a.contact_id = {TABLE}.contact_id AND a.type = {TABLE}.type)"
)
_DERIVE = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) SELECT type, contact_id, occurred_at, id FROM "
    "(SELECT type, contact_id, occurred_at, id, ROW_NUMBER() OVER "
    f"(PARTITION BY type, contact_id ORDER BY occurred_at DESC, id DESC) AS n FROM {ACTIVITY}) ranked WHERE n = 1"
)


class ContactEventSummaryProjection(Projection):
    """The latest event of each type per contact, derived from ``contact_activity``."""

    name = TABLE
    # Derived from contact_activity's rows: a change of its meaning (its version) rebuilds this one too.
    version = 1 + 1000 * ContactActivityProjection.version
    topics = ContactActivityProjection.topics
    after = (ContactActivityProjection.name,)

    def create_statements(self, dialect: str) -> Sequence[str]:
        columns = "type TEXT NOT NULL, contact_id TEXT NOT NULL, last_at TEXT NOT NULL, last_id TEXT NOT NULL"
        if dialect == "postgres":
            # last_at rides in the key's index, so a probe is an index-only scan of one entry.
            table = f"CREATE TABLE IF NOT EXISTS {TABLE} ({columns}, PRIMARY KEY (type, contact_id) INCLUDE (last_at))"
        else:
            # WITHOUT ROWID: the table is its key's B-tree, so a probe reads last_at in the same place.
            table = f"CREATE TABLE IF NOT EXISTS {TABLE} ({columns}, PRIMARY KEY (type, contact_id)) WITHOUT ROWID"
        return [table, f"CREATE INDEX IF NOT EXISTS {TABLE}_last_id ON {TABLE} (last_id)"]

    def tables(self) -> Sequence[str]:
        return [TABLE]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        received: list[str] = []
        renormalized: list[str] = []
        for e in events:
            ids = [str(event_id(e.connection_id, n.key)) for n in e.events]
            if isinstance(e, W.Received):  # type: ignore[attr-defined]
                received.extend(ids)
            else:
                renormalized.extend(ids)
                renormalized.extend(str(event_id(e.connection_id, key)) for key in dropped_keys(e))
        # Either way the pairs are recomputed from contact_activity as it is now, so order does not matter.
        for chunk in _chunks(sorted(set(received) - set(renormalized))):
            tx.execute(_ADVANCE.format(marks=", ".join("?" for _ in chunk)), chunk)
        for chunk in _chunks(sorted(set(renormalized))):
            marks = ", ".join("?" for _ in chunk)
            pairs = f"{_PAIRS_OF_ROWS.format(marks=marks)} UNION {_PAIRS_OF_LATEST.format(marks=marks)}"
            tx.execute(_REFRESH.format(pairs=pairs), (*chunk, *chunk))
            tx.execute(_EMPTIED.format(marks=marks), chunk)


def derive(tx: Tx) -> None:
    """Replace every row with one computed from the whole of ``contact_activity`` in one statement.

    What a rebuild arrives at, without replaying the log: bulk loads (the segments benchmark, test
    worlds) fill ``contact_activity`` directly and derive this table from it.
    """
    tx.execute(f"DELETE FROM {TABLE}")
    tx.execute(_DERIVE)


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
