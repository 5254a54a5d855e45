"""A small world of contacts, tags, email activity, preferences and suppressions, loaded straight into the
segment engine's read models.

Tables are created by the projections that own them and attribute rows are typed by the contacts
projection's own ``attribute_row``, so a schema or typing change there fails the segment tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.contact_fields import parse_datetime
from projections.contact_activity import ContactActivityProjection
from projections.contact_event_summary import ContactEventSummaryProjection, derive
from projections.contacts import ContactsProjection, attribute_row
from projections.db import Database, Tx
from projections.email_events import stamp
from projections.preferences import PreferencesProjection
from projections.suppressions import SuppressionsProjection
from projections.tags import TagsProjection

TABLES = ("contacts", "contacts_attributes", "tags", "tags_contacts", "contact_activity", "contact_event_summary",
          "preferences", "preferences_choices", "preferences_categories", "suppressions")  # fmt: skip
PROJECTIONS = (ContactsProjection(), TagsProjection(), ContactActivityProjection(), ContactEventSummaryProjection(),
               PreferencesProjection(), SuppressionsProjection())  # fmt: skip


def instant(text: str) -> datetime | None:
    """The instant an ISO 8601 date or date-time with offset names: the ADR's 'datetime' strings."""
    moment = parse_datetime(text)
    if moment is None:
        return None
    try:
        stamp(moment)
    except OverflowError:  # before the first representable UTC instant
        return None
    return moment


@dataclass
class Contact:
    """A contact as the engine sees it."""

    id: str
    email: str
    timezone: str | None
    locale: str | None
    created_at: datetime
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Activity:
    """One email event linked to a contact."""

    id: str
    contact_id: str
    type: str
    campaign_id: str | None
    occurred_at: datetime


@dataclass
class World:
    """Contacts, a tag tree (id -> path), tag assignments, activity, and preferences and suppressions.

    ``categories`` maps a preference category key to its default; ``choices`` (contact id, key) to an
    explicit choice; ``opted_out`` and ``suppressed`` hold contact ids.
    """

    contacts: list[Contact] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    assignments: set[tuple[str, str]] = field(default_factory=set)
    activity: list[Activity] = field(default_factory=list)
    categories: dict[str, bool] = field(default_factory=dict)
    choices: dict[tuple[str, str], bool] = field(default_factory=dict)
    opted_out: set[str] = field(default_factory=set)
    suppressed: set[str] = field(default_factory=set)


def create_tables(db: Database) -> None:
    """The read-model tables the engine compiles against, created by the projections that own them."""
    with db.transaction() as tx:
        for projection in PROJECTIONS:
            for statement in projection.create_statements(db.dialect):
                tx.execute(statement)


def load(db: Database, world: World) -> None:
    """Replace the tables' contents with the world."""
    with db.transaction() as tx:
        for table in TABLES:
            tx.execute(f"DELETE FROM {table}")
        _insert(tx, world)


def _insert(tx: Tx, world: World) -> None:
    tx.executemany(
        "INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (c.id, c.email, c.email.rpartition("@")[2], c.timezone, c.locale,
             json.dumps(c.attributes, sort_keys=True), stamp(c.created_at), stamp(c.created_at))
            for c in world.contacts
        ],
    )  # fmt: skip
    tx.executemany(
        "INSERT INTO contacts_attributes VALUES (?, ?, ?, ?, ?, ?)",
        [attribute_row(c.id, name, v) for c in world.contacts for name, v in c.attributes.items()],
    )
    tx.executemany(
        "INSERT INTO tags VALUES (?, ?, NULL, ?, '', '{}', ?, ?)",
        [(i, p, p.rpartition("/")[2], p.count("/"), "2026-01-01T00:00:00.000000+00:00") for i, p in world.tags.items()],
    )
    tx.executemany("INSERT INTO tags_contacts VALUES (?, ?)", sorted(world.assignments))
    tx.executemany(
        "INSERT INTO contact_activity VALUES (?, ?, ?, ?, ?)",
        [(a.id, a.contact_id, a.type, a.campaign_id, stamp(a.occurred_at)) for a in world.activity],
    )
    derive(tx)  # as a rebuild of the summary would leave it; its incremental upkeep has its own tests
    _insert_preferences(tx, world)


def _insert_preferences(tx: Tx, world: World) -> None:
    at = "2026-01-01T00:00:00.000000+00:00"
    tx.executemany(
        "INSERT INTO preferences_categories VALUES (?, ?, '', ?, 0, ?)",
        [(key, key, int(default), at) for key, default in sorted(world.categories.items())],
    )
    with_rows = world.opted_out | {cid for cid, _ in world.choices}
    tx.executemany(
        "INSERT INTO preferences VALUES (?, ?, NULL, NULL, ?, ?)",
        [(cid, int(cid in world.opted_out), at, at) for cid in sorted(with_rows)],
    )
    tx.executemany(
        "INSERT INTO preferences_choices VALUES (?, ?, ?)",
        [(cid, key, int(subscribed)) for (cid, key), subscribed in sorted(world.choices.items())],
    )
    emails = {c.id: c.email for c in world.contacts}
    tx.executemany(
        "INSERT INTO suppressions VALUES (?, ?, 'manual', 'admin', NULL, ?)",
        [(emails[cid], cid, at) for cid in sorted(world.suppressed)],
    )
