"""Read the events of many aggregates in one query.

The library reads one aggregate per query. An import batch needs a thousand contacts at once and the
email policies a suppression per hard bounce, so this asks the recorder's own datastore directly: a
read, and only of the events table the library owns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

_CHUNK = 900  # below SQLite's oldest limit of 999 parameters


def select_events(recorder: Any, ids: Sequence[UUID]) -> list[StoredEvent]:
    """Every stored event of these aggregates, in version order per aggregate."""
    return [e for i in range(0, len(ids), _CHUNK) for e in _select_chunk(recorder, ids[i : i + _CHUNK])]


def _select_chunk(recorder: Any, ids: Sequence[UUID]) -> list[StoredEvent]:
    datastore = recorder.datastore
    table = recorder.events_table_name
    columns = "originator_id, originator_version, topic, state"
    if type(datastore).__name__.startswith("Postgres"):
        from psycopg.sql import SQL, Identifier  # noqa: PLC0415 - only the PostgreSQL store needs psycopg

        query = SQL(
            "SELECT " + columns + " FROM {}.{} WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(Identifier(datastore.schema), Identifier(table))
        with datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(query, (list(ids),))
            rows = cursor.fetchall()
        return [StoredEvent(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"])) for r in rows]
    marks = ", ".join("?" for _ in ids)
    where = f"originator_id IN ({marks}) ORDER BY originator_id, originator_version"
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE {where}", [i.hex for i in ids])
        rows = cursor.fetchall()
    return [StoredEvent(UUID(r["originator_id"]), r["originator_version"], r["topic"], r["state"]) for r in rows]
