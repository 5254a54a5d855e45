"""The preferences read model (ADR 0004 §2): each contact's settings, explicit category choices, and the categories.

Rows exist only for contacts whose preferences ever changed; a contact without a row has the defaults
(not opted out, no choices, no frequency cap, not paused). ``last_effective_at`` is the newest
``effective_at`` of any change, which the ESP resubscribe rule compares against.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.contact_preferences import ContactPreferences as P
from domain.preference_category import PreferenceCategory as C
from projections.db import Database, Tx
from projections.email_events import stamp
from projections.projection import Projection

TABLE = "preferences"
CHOICES = "preferences_choices"
CATEGORIES = "preferences_categories"
_EVENTS = (P.Started, P.OptedOut, P.OptedIn, P.CategoriesChosen, P.FrequencySet, P.Paused, P.Unpaused)  # type: ignore[attr-defined]
_CATEGORY_EVENTS = (C.Defined, C.Updated, C.Archived)  # type: ignore[attr-defined]
# A change moves last_effective_at only forward (an ESP may report an old event late). Started writes ''
# ("no change yet"), which every stamp sorts after; Started is always saved together with a first change.
_CHANGED = (
    f"UPDATE {TABLE} SET updated_at = ?, last_effective_at = CASE WHEN last_effective_at < ? THEN ? "
    "ELSE last_effective_at END{} WHERE contact_id = ?"
)


def frequency_json(frequency: dict[str, Any] | None) -> str | None:
    """The stored text of a frequency setting."""
    return None if frequency is None else json.dumps(frequency, sort_keys=True, separators=(",", ":"))


class PreferencesProjection(Projection):
    """Contacts' preferences and the preference categories."""

    name = TABLE
    version = 1
    topics = tuple(get_topic(cls) for cls in (*_EVENTS, *_CATEGORY_EVENTS))

    def create_statements(self, dialect: str) -> Sequence[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (contact_id TEXT PRIMARY KEY, opted_out INTEGER NOT NULL, "
            "frequency TEXT, paused_until TEXT, updated_at TEXT NOT NULL, last_effective_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_opted_out ON {TABLE} (opted_out, contact_id)",
            f"CREATE TABLE IF NOT EXISTS {CHOICES} (contact_id TEXT NOT NULL, category TEXT NOT NULL, "
            "subscribed INTEGER NOT NULL, PRIMARY KEY (contact_id, category))",
            f"CREATE INDEX IF NOT EXISTS {CHOICES}_category ON {CHOICES} (category, subscribed, contact_id)",
            f"CREATE TABLE IF NOT EXISTS {CATEGORIES} (key TEXT PRIMARY KEY, name TEXT NOT NULL, "
            "description TEXT NOT NULL, default_subscribed INTEGER NOT NULL, archived INTEGER NOT NULL, "
            "created_at TEXT NOT NULL)",
        ]

    def tables(self) -> Sequence[str]:
        return [TABLE, CHOICES, CATEGORIES]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        # Preferences change one contact at a time (no bulk path yet), so statement-per-event is enough.
        for e in events:
            if isinstance(e, _CATEGORY_EVENTS):
                _apply_category_event(tx, e)
            elif isinstance(e, P.Started):  # type: ignore[attr-defined]
                tx.execute(
                    f"INSERT INTO {TABLE} (contact_id, opted_out, frequency, paused_until, updated_at, "
                    "last_effective_at) VALUES (?, 0, NULL, NULL, ?, '') ON CONFLICT (contact_id) DO NOTHING",
                    (str(e.contact_id), stamp(e.timestamp)),
                )
            else:
                _apply_change(tx, e)


def _apply_change(tx: Tx, e: Any) -> None:
    cid, at, effective = str(e.contact_id), stamp(e.timestamp), stamp(e.effective_at)
    value: tuple[Any, ...]
    if isinstance(e, P.CategoriesChosen):  # type: ignore[attr-defined]
        tx.executemany(
            f"INSERT INTO {CHOICES} (contact_id, category, subscribed) VALUES (?, ?, ?) "
            "ON CONFLICT (contact_id, category) DO UPDATE SET subscribed = excluded.subscribed",
            [(cid, key, int(subscribed)) for key, subscribed in sorted(e.choices.items())],
        )
        column, value = "", ()
    elif isinstance(e, P.OptedOut | P.OptedIn):  # type: ignore[attr-defined]
        column, value = ", opted_out = ?", (int(isinstance(e, P.OptedOut)),)  # type: ignore[attr-defined]
    elif isinstance(e, P.FrequencySet):  # type: ignore[attr-defined]
        column, value = ", frequency = ?", (frequency_json(e.frequency),)
    elif isinstance(e, P.Paused):  # type: ignore[attr-defined]
        column, value = ", paused_until = ?", (stamp(e.until),)
    else:
        column, value = ", paused_until = ?", (None,)
    tx.execute(_CHANGED.format(column), (at, effective, effective, *value, cid))


def _apply_category_event(tx: Tx, e: Any) -> None:
    if isinstance(e, C.Defined):  # type: ignore[attr-defined]
        tx.execute(
            f"INSERT INTO {CATEGORIES} (key, name, description, default_subscribed, archived, created_at) "
            "VALUES (?, ?, ?, ?, 0, ?)",
            (e.key, e.name, e.description, int(e.default_subscribed), stamp(e.timestamp)),
        )
        return
    if isinstance(e, C.Updated):  # type: ignore[attr-defined]
        tx.execute(
            f"UPDATE {CATEGORIES} SET name = ?, description = ?, default_subscribed = ? WHERE key = ?",
            (e.name, e.description, int(e.default_subscribed), e.key),
        )
    else:
        tx.execute(f"UPDATE {CATEGORIES} SET archived = 1 WHERE key = ?", (e.key,))


# -- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryRow:
    """A preference category as the read model holds it."""

    key: str
    name: str
    description: str
    default_subscribed: bool
    archived: bool
    created_at: str


@dataclass(frozen=True)
class CategoryChoice:
    """One category as it applies to a contact: the explicit choice if any, else the category's default."""

    key: str
    name: str
    description: str
    default_subscribed: bool
    subscribed: bool
    explicit: bool
    archived: bool


@dataclass(frozen=True)
class EffectivePreferences:
    """A contact's preferences with category defaults applied (``updated_at`` None: never changed).

    ``subscribed`` on a category is the contact's wish for that category; a global opt-out overrides
    every one of them without erasing them, so opting back in restores the earlier choices.
    """

    contact_id: UUID
    opted_out: bool
    frequency: dict[str, Any] | None
    paused_until: str | None
    updated_at: str | None
    last_effective_at: str | None
    categories: list[CategoryChoice]


def _category(r: dict[str, Any]) -> CategoryRow:
    return CategoryRow(r["key"], r["name"], r["description"], bool(r["default_subscribed"]), bool(r["archived"]),
                       r["created_at"])  # fmt: skip


def list_categories(db: Database, include_archived: bool = False) -> list[CategoryRow]:
    """Categories by key (archived ones only when asked)."""
    where = "" if include_archived else " WHERE archived = 0"
    return [_category(r) for r in db.query(f"SELECT * FROM {CATEGORIES}{where} ORDER BY key")]


def get_category(db: Database, key: str) -> CategoryRow | None:
    """The category with this key."""
    rows = db.query(f"SELECT * FROM {CATEGORIES} WHERE key = ?", (key,))
    return _category(rows[0]) if rows else None


def effective_preferences(db: Database, contact_id: UUID) -> EffectivePreferences:
    """The contact's settings and every active category (plus archived ones it chose explicitly)."""
    cid = str(contact_id)
    rows = db.query(f"SELECT * FROM {TABLE} WHERE contact_id = ?", (cid,))
    row = rows[0] if rows else None
    choices = {r["category"]: bool(r["subscribed"]) for r in db.query(
        f"SELECT category, subscribed FROM {CHOICES} WHERE contact_id = ?", (cid,))}  # fmt: skip
    categories = [
        CategoryChoice(
            c.key,
            c.name,
            c.description,
            c.default_subscribed,
            choices.get(c.key, c.default_subscribed),
            c.key in choices,
            c.archived,
        )
        for c in list_categories(db, include_archived=True)
        if not c.archived or c.key in choices
    ]
    return EffectivePreferences(
        contact_id=contact_id,
        opted_out=bool(row and row["opted_out"]),
        frequency=json.loads(row["frequency"]) if row and row["frequency"] else None,
        paused_until=row["paused_until"] if row else None,
        updated_at=row["updated_at"] if row else None,
        last_effective_at=(row["last_effective_at"] or None) if row else None,
        categories=categories,
    )


def snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of the three tables, for comparing a rebuilt read model with a live one."""
    return {
        TABLE: db.query(f"SELECT * FROM {TABLE} ORDER BY contact_id"),
        CHOICES: db.query(f"SELECT * FROM {CHOICES} ORDER BY contact_id, category"),
        CATEGORIES: db.query(f"SELECT * FROM {CATEGORIES} ORDER BY key"),
    }
