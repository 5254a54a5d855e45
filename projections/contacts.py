"""The contacts read model (ADR 0003): ``contacts`` and one typed row per attribute in ``contacts_attributes``.

A batch is applied in memory first (each touched contact's final state), then written in bulk: new
contacts and every attribute row with COPY on PostgreSQL, changed contacts with one ``UPDATE ... FROM
json_array_elements``. An import batch of a thousand contacts is a handful of statements.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic

from domain.contact import Contact
from domain.contact_fields import parse_datetime
from domain.email_address import email_domain
from projections.db import Database, Tx
from projections.email_events import COLUMNS as EVENT_COLUMNS
from projections.email_events import TABLE as EVENTS
from projections.email_events import stamp
from projections.projection import Projection

TABLE = "contacts"
ATTRIBUTES = "contacts_attributes"
COLUMNS = ("id", "email", "email_domain", "timezone", "locale", "attributes", "created_at", "updated_at")
ATTRIBUTE_COLUMNS = ("contact_id", "name", "kind", "text_value", "num_value", "time_value")
_CHANGES = (Contact.AttributesChanged, Contact.TimezoneChanged, Contact.LocaleChanged)  # type: ignore[attr-defined]
_CHUNK = 900  # SQLite parameters per IN list
_json = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode
_encode_rows = msgspec.json.Encoder().encode


def attribute_row(contact_id: str, name: str, value: Any) -> tuple[Any, ...]:
    """The typed row of one attribute: kind, then text, number and time columns as ADR 0003 defines them."""
    if isinstance(value, bool):
        return contact_id, name, "boolean", None, float(value), None
    if isinstance(value, int | float):
        return contact_id, name, "number", None, float(value), None
    moment = parse_datetime(value)
    if moment is not None:
        return contact_id, name, "datetime", value, None, stamp(moment)
    return contact_id, name, "string", value, None, None


class ContactsProjection(Projection):
    """Contacts by id and email, and their attributes typed for the segment engine."""

    name = TABLE
    version = 1
    topics = tuple(get_topic(cls) for cls in (Contact.Registered, *_CHANGES))  # type: ignore[attr-defined]

    def create_statements(self, dialect: str) -> Sequence[str]:
        real = "DOUBLE PRECISION" if dialect == "postgres" else "REAL"
        number_key = "(name, kind, num_value) INCLUDE (contact_id)" if dialect == "postgres" else (
            "(name, kind, num_value, contact_id)")  # fmt: skip
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, "
            "email_domain TEXT NOT NULL, timezone TEXT, locale TEXT, attributes TEXT NOT NULL, "
            "created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_email_domain ON {TABLE} (email_domain)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_created_at ON {TABLE} (created_at)",
            f"CREATE TABLE IF NOT EXISTS {ATTRIBUTES} (contact_id TEXT NOT NULL, name TEXT NOT NULL, "
            f"kind TEXT NOT NULL, text_value TEXT, num_value {real}, time_value TEXT, "
            "PRIMARY KEY (contact_id, name))",
            # Numbers and booleans only, with the contact id, so a range condition of the segment engine is
            # an index-only scan (ADR 0003 §4). Replaces the former (name, num_value) index.
            f"DROP INDEX IF EXISTS {ATTRIBUTES}_num",
            f"CREATE INDEX IF NOT EXISTS {ATTRIBUTES}_number ON {ATTRIBUTES} {number_key} WHERE num_value IS NOT NULL",
            f"CREATE INDEX IF NOT EXISTS {ATTRIBUTES}_text ON {ATTRIBUTES} (name, text_value)",
            f"CREATE INDEX IF NOT EXISTS {ATTRIBUTES}_time ON {ATTRIBUTES} (name, time_value)",
        ]

    def tables(self) -> Sequence[str]:
        return [TABLE, ATTRIBUTES]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        new: dict[str, dict[str, Any]] = {}
        for e in events:
            if isinstance(e, Contact.Registered):  # type: ignore[attr-defined]
                new[str(e.originator_id)] = _registered(e)
        known = _select(tx, {str(e.originator_id) for e in events} - new.keys())
        for e in events:
            if not isinstance(e, Contact.Registered):  # type: ignore[attr-defined]
                cid = str(e.originator_id)
                state = new.get(cid) or known.get(cid)
                if state is not None:  # a change always follows its registration in the log
                    _change(state, e)
        tx.copy_rows(TABLE, COLUMNS, [_contact_row(cid, s) for cid, s in new.items()])
        _update(tx, known)
        tx.copy_rows(ATTRIBUTES, ATTRIBUTE_COLUMNS,
                     [r for cid, s in (*new.items(), *known.items()) for r in _attribute_rows(cid, s)])  # fmt: skip


def _registered(e: Any) -> dict[str, Any]:
    at = stamp(e.timestamp)
    return {"email": e.email, "timezone": e.timezone, "locale": e.locale, "attributes": dict(e.attributes),
            "created_at": at, "updated_at": at}  # fmt: skip


def _change(state: dict[str, Any], e: Any) -> None:
    if isinstance(e, Contact.AttributesChanged):  # type: ignore[attr-defined]
        state["attributes"].update(e.set)
        for name in e.unset:
            state["attributes"].pop(name, None)
    elif isinstance(e, Contact.TimezoneChanged):  # type: ignore[attr-defined]
        state["timezone"] = e.timezone
    else:
        state["locale"] = e.locale
    state["updated_at"] = stamp(e.timestamp)


def _contact_row(cid: str, s: dict[str, Any]) -> tuple[Any, ...]:
    return (cid, s["email"], email_domain(s["email"]), s["timezone"], s["locale"], _json(s["attributes"]),
            s["created_at"], s["updated_at"])  # fmt: skip


def _attribute_rows(cid: str, s: dict[str, Any]) -> Iterable[tuple[Any, ...]]:
    return (attribute_row(cid, name, value) for name, value in s["attributes"].items())


def _select(tx: Tx, ids: set[str]) -> dict[str, dict[str, Any]]:
    # The current rows of contacts changed (not created) in this batch.
    if not ids:
        return {}
    columns = "id, email, timezone, locale, attributes, created_at, updated_at"
    if tx.dialect == "postgres":
        rows = tx.execute(f"SELECT {columns} FROM {TABLE} WHERE id = ANY(?)", (list(ids),)).fetchall()
    else:
        ordered, rows = sorted(ids), []
        for i in range(0, len(ordered), _CHUNK):
            chunk = ordered[i : i + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            rows += tx.execute(f"SELECT {columns} FROM {TABLE} WHERE id IN ({marks})", chunk).fetchall()
    return {r.pop("id"): {**r, "attributes": json.loads(r["attributes"])} for r in rows}


def _update(tx: Tx, known: dict[str, dict[str, Any]]) -> None:
    if not known:
        return
    rows = [(s["timezone"], s["locale"], _json(s["attributes"]), s["updated_at"], cid) for cid, s in known.items()]
    if tx.dialect == "postgres":
        tx.execute(
            f"UPDATE {TABLE} AS c SET timezone = r->>0, locale = r->>1, attributes = r->>2, updated_at = r->>3 "
            "FROM json_array_elements(?::json) AS r WHERE c.id = r->>4",
            (_rows_json(rows),),
        )
        tx.execute(f"DELETE FROM {ATTRIBUTES} WHERE contact_id = ANY(?)", (list(known),))
        return
    tx.executemany(f"UPDATE {TABLE} SET timezone = ?, locale = ?, attributes = ?, updated_at = ? WHERE id = ?", rows)
    tx.executemany(f"DELETE FROM {ATTRIBUTES} WHERE contact_id = ?", [(cid,) for cid in known])


def _rows_json(rows: list[tuple[Any, ...]]) -> str:
    return _encode_rows(rows).decode()


# -- queries --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactRow:
    """One contact as the read model holds it."""

    id: UUID
    email: str
    email_domain: str
    timezone: str | None
    locale: str | None
    attributes: dict[str, Any]
    created_at: str
    updated_at: str


_SELECT = f"SELECT {', '.join(COLUMNS)} FROM {TABLE}"


def _row(r: dict[str, Any]) -> ContactRow:
    return ContactRow(**{**r, "id": UUID(r["id"]), "attributes": json.loads(r["attributes"])})


def get_contact(db: Database, contact_id: UUID) -> ContactRow | None:
    """One contact by id."""
    rows = db.query(f"{_SELECT} WHERE id = ?", (str(contact_id),))
    return _row(rows[0]) if rows else None


def get_contacts(db: Database, contact_ids: Sequence[UUID]) -> dict[UUID, ContactRow]:
    """Contacts by id (absent ids are left out), in one query per 500 ids."""
    ids = [str(c) for c in contact_ids]
    found: dict[UUID, ContactRow] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        rows = db.query(f"{_SELECT} WHERE id IN ({', '.join('?' for _ in chunk)})", chunk)
        found.update((row.id, row) for row in map(_row, rows))
    return found


def find_by_email(db: Database, email: str) -> ContactRow | None:
    """The contact with this normalized address."""
    rows = db.query(f"{_SELECT} WHERE email = ?", (email,))
    return _row(rows[0]) if rows else None


def list_contacts(db: Database, after: UUID | None = None, limit: int = 100) -> list[ContactRow]:
    """Contacts in id order after the cursor (an id), at most ``limit``."""
    rows = db.query(f"{_SELECT} WHERE id > ? ORDER BY id LIMIT ?", (str(after) if after else "", limit))
    return [_row(r) for r in rows]


def count_contacts(db: Database) -> int:
    """How many contacts the read model holds."""
    return int(db.query(f"SELECT COUNT(*) AS n FROM {TABLE}")[0]["n"])


def attributes_of(db: Database, contact_id: UUID) -> list[dict[str, Any]]:
    """The typed attribute rows of one contact, by name."""
    return db.query(f"SELECT * FROM {ATTRIBUTES} WHERE contact_id = ? ORDER BY name", (str(contact_id),))


def contact_events(db: Database, email: str, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """Normalized email events whose recipient is this address, in ``seq`` order after the cursor.

    ESP payloads name the recipient as sent: for an internationalized domain that may be the Unicode
    form, so both spellings of the (punycode-normalized) address match.
    """
    local, _, domain = email.rpartition("@")
    spellings = [email, f"{local}@{domain.encode().decode('idna')}" if "xn--" in domain else email]
    sql = (f"SELECT seq, {', '.join(EVENT_COLUMNS)} FROM {EVENTS} WHERE recipient IN (?, ?) AND seq > ? "
           "ORDER BY seq LIMIT ?")  # fmt: skip
    rows = db.query(sql, (*spellings, after, limit))
    return [{**r, "metadata": json.loads(r["metadata"]) if r["metadata"] else {},
             "machine_open": None if r["machine_open"] is None else bool(r["machine_open"])} for r in rows]  # fmt: skip


def snapshot(db: Database) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every row of both tables, for comparing a rebuilt read model with a live one."""
    return (db.query(f"SELECT * FROM {TABLE} ORDER BY id"),
            db.query(f"SELECT * FROM {ATTRIBUTES} ORDER BY contact_id, name"))  # fmt: skip
