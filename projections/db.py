"""One small SQL port over the event store's own connection pool, for SQLite and PostgreSQL alike.

Read models live in the same database as the events and reuse the library's datastore, so a SQLite
projection write takes the same in-process writer lock as an event append. SQL is written with ``?``
placeholders; the PostgreSQL side rewrites them to ``%s``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from eventsourcing.persistence import OperationalError

Dialect = Literal["sqlite", "postgres"]
_PLACEHOLDER = re.compile(r"\?")


class Tx:
    """A cursor inside one transaction, returning rows as dicts."""

    def __init__(self, cursor: Any, dialect: Dialect) -> None:
        # The library wraps sqlite3 cursors; use the raw one for rowcount and Row access.
        self._cursor = getattr(cursor, "sqlite_cursor", cursor)
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        return _PLACEHOLDER.sub("%s", sql) if self.dialect == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Tx:
        """Run one statement."""
        self._cursor.execute(self._sql(sql), tuple(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows."""
        if rows:
            self._cursor.executemany(self._sql(sql), [tuple(r) for r in rows])

    def copy_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows as they are: COPY on PostgreSQL (about 1.7x an ``INSERT ... SELECT`` of the same rows
        for the server, whose per-statement and per-row executor work it skips), ``executemany`` on SQLite."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.dialect == "sqlite":
            self.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})", rows)
            return
        with self._cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def insert_new(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows whose ``id`` is not there yet, in the given order (the first copy of an id wins)."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.dialect == "sqlite":
            marks = ", ".join("?" for _ in columns)
            self.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING", rows)
            return
        # COPY into a session-local staging table, then one INSERT: ~10x fewer round trips and less
        # per-row work than a pipelined executemany.
        staging = f"{table}_incoming"
        self._cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "
            f"SELECT {names}, 0::bigint AS ord FROM {table} WITH NO DATA"
        )
        with self._cursor.copy(f"COPY {staging} ({names}, ord) FROM STDIN") as copy:
            for i, row in enumerate(rows):
                copy.write_row((*row, i))
        self._cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} ORDER BY ord ON CONFLICT (id) DO NOTHING"
        )
        self._cursor.execute(f"DELETE FROM {staging}")

    def fetchall(self) -> list[dict[str, Any]]:
        """All remaining rows."""
        return [dict(r) for r in self._cursor.fetchall()]

    def fetchone(self) -> dict[str, Any] | None:
        """The next row, or None."""
        row = self._cursor.fetchone()
        return dict(row) if row is not None else None

    @property
    def rowcount(self) -> int:
        """Rows touched by the last statement."""
        return int(self._cursor.rowcount)


class Database:
    """Transactions on the shared datastore, with the dialect the SQL must respect."""

    def __init__(self, datastore: Any, dialect: Dialect) -> None:
        self._datastore = datastore
        self.dialect = dialect

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A read-write transaction, committed when the block exits cleanly."""
        if self.dialect == "sqlite":
            with self._sqlite_write() as tx:
                yield tx
            return
        with self._datastore.transaction(commit=True) as cursor:
            yield Tx(cursor, self.dialect)

    @contextmanager
    def _sqlite_write(self) -> Iterator[Tx]:
        # BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy timeout). The library's
        # deferred BEGIN would fail at once with "database is locked" when a transaction that read first
        # tries to write after another process (serve vs CLI, serve vs worker) has committed.
        try:
            with self._datastore.get_connection(commit=True) as conn:
                cursor = conn.cursor()
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield Tx(cursor, self.dialect)
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
        except sqlite3.OperationalError as exc:
            raise OperationalError(str(exc)) from exc

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        """A read-only transaction (rolled back at the end)."""
        with self._datastore.transaction(commit=False) as cursor:
            yield Tx(cursor, self.dialect)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of one read-only query."""
        if self.dialect == "postgres":
            # Pooled connections are in autocommit mode: one statement, one round trip, no BEGIN/ROLLBACK.
            with self._datastore.cursor() as cursor:
                return Tx(cursor, self.dialect).execute(sql, params).fetchall()
        with self.reading() as tx:
            return tx.execute(sql, params).fetchall()

    def ping(self) -> None:
        """Raise unless the database answers."""
        self.query("SELECT 1 AS ok")


def dialect_of(datastore: Any) -> Dialect:
    """Which SQL dialect a library datastore speaks."""
    return "postgres" if type(datastore).__name__.startswith("Postgres") else "sqlite"
