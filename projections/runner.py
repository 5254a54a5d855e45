"""Follows the event log and keeps every projection's tables and position in step.

Each batch is one transaction: compare-and-set the projection's position, then apply the events.
So a crash never half-applies a batch, and two runners (serve + worker, or two workers) never apply
the same events twice: the loser's position update matches no row and its transaction rolls back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import OperationalError

from application.store import EventStoreResources
from domain.errors import NotFound
from projections.db import Database, Tx
from projections.projection import Projection, Reactor
from projections.runner_state import Pass, PositionMoved, ProjectionStatus, dependencies_first

log = logging.getLogger("tidings.projections")

POSITIONS_TABLE = "projection_positions"
# Idle projections are found by one look at the topics in the unread part of the log, when that part is
# short (a busy service); a long one (a rebuild, a runner that was down) goes projection by projection.
IDLE_SCAN_LIMIT = 20_000
Progress = Callable[[int, int], None]


class ProjectionRunner:
    """Creates, catches up, rebuilds and reports on a set of projections."""

    def __init__(
        self,
        store: EventStoreResources,
        mapper: Any,
        db: Database,
        projections: Sequence[Projection],
        batch_size: int = 500,
    ) -> None:
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            raise ValueError(f"projection names must be unique: {names}")
        projections = dependencies_first(projections)
        self.store = store
        self.mapper = mapper
        self.db = db
        self.projections = {p.name: p for p in projections}
        self.batch_size = batch_size
        self.idle_scan_limit = IDLE_SCAN_LIMIT
        self._listening = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ticked: dict[str, float] = {}

    # -- setup and status -------------------------------------------------------------------

    def setup(self) -> None:
        """Create the tables; rebuild any projection whose version changed."""
        self._ddl(
            [
                f"CREATE TABLE IF NOT EXISTS {POSITIONS_TABLE} (name TEXT PRIMARY KEY, "
                "version INTEGER NOT NULL, position BIGINT NOT NULL, updated_at TEXT)"
            ]
        )
        for p in self.projections.values():
            # One transaction per projection: a process starting next to a running runner (a CLI command
            # beside `serve`) then holds DDL locks on one projection's tables at a time.
            self._ddl(list(p.create_statements(self.db.dialect)), p)
        for st in self.status():
            if st.version != self.projections[st.name].version:
                log.info("projection version changed, rebuilding", extra={"projection": st.name})
                self.reset(st.name)

    def _ddl(self, statements: Sequence[str], projection: Projection | None = None, attempts: int = 5) -> None:
        # CREATE INDEX IF NOT EXISTS takes a share lock even when the index exists, so it can deadlock
        # with a batch being applied by another runner; the statements are idempotent, so retry.
        for attempt in range(attempts):
            try:
                with self.db.transaction() as tx:
                    for statement in statements:
                        tx.execute(statement)
                    if projection is not None:
                        tx.execute(
                            f"INSERT INTO {POSITIONS_TABLE} (name, version, position) VALUES (?, ?, 0) "
                            "ON CONFLICT (name) DO NOTHING",
                            (projection.name, projection.version),
                        )
                return
            except OperationalError as exc:
                if "deadlock" not in str(exc) or attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

        for st in self.status():
            if st.version != self.projections[st.name].version:
                log.info("projection version changed, rebuilding", extra={"projection": st.name})
                self.reset(st.name)

    def status(self, head: int | None = None) -> list[ProjectionStatus]:
        """Every projection's version, position and lag."""
        head = self.store.head() if head is None else head
        rows = self.db.query(f"SELECT name, version, position, updated_at FROM {POSITIONS_TABLE} ORDER BY name")
        return [
            ProjectionStatus(r["name"], r["version"], r["position"], head, r["updated_at"])
            for r in rows
            if r["name"] in self.projections
        ]

    def position(self, name: str) -> int:
        """The last log position the projection has applied."""
        rows = self.db.query(f"SELECT position FROM {POSITIONS_TABLE} WHERE name = ?", (name,))
        return int(rows[0]["position"]) if rows else 0

    # -- processing --------------------------------------------------------------------------

    def step(self, name: str) -> int:
        """Apply one batch; returns how many events it applied."""
        return self._step(name)[0]

    def _step(self, name: str, run: Pass | None = None) -> tuple[int, bool]:
        # Returns (events applied, whether the position moved): a batch may only skip other topics.
        projection = self.projections[name]
        if run is None:
            head, start = self._ceiling(projection), self.position(name)
        else:
            head = min([run.head, *(run.positions.get(a, 0) for a in projection.after)])
            start = run.positions[name]
        if start >= head:
            return 0, False
        topics = projection.topics_now(self.db)
        key = (start, head, topics)
        if run is not None and key in run.shared:
            end, events = run.shared[key]
        else:
            notifications = self.store.recorder.select_notifications(
                start=start, limit=self.batch_size, stop=head, topics=topics, inclusive_of_start=False
            )
            # A short batch means every matching event up to head was read: jump to head.
            end = notifications[-1].id if len(notifications) == self.batch_size else head
            events = [self.mapper.to_domain_event(n) for n in notifications]
            if run is not None and end == head:
                run.shared[key] = (end, events)
        if isinstance(projection, Reactor):
            # Commands go to the event store, not into this transaction: react first, then advance.
            # A crash in between re-runs the batch, which idempotent commands make harmless.
            projection.react(events)
            with self.db.transaction() as tx:
                self._advance(tx, name, start, end)
        else:
            with self.db.transaction() as tx:
                self._advance(tx, name, start, end)
                projection.apply(tx, events)
        if run is not None:
            run.positions[name] = end
        return len(events), True

    def catch_up(self, name: str, progress: Progress | None = None, run: Pass | None = None) -> int:
        """Apply batches until the projection reaches the head; returns events applied."""
        done = 0
        while True:
            applied, moved = self._step(name, run)
            if not moved:
                return done
            done += applied
            if progress:
                progress(self.position(name), self.store.head())

    def catch_up_all(self) -> int:
        """Catch every projection up to the head as it was when the pass began; returns events applied.

        One look at the head and the positions per pass; positions are then tracked in memory (the
        compare-and-set of each batch still catches another runner's move). Before, every step of every
        projection asked the database for the head, its own position and each dependency's, each on a
        pooled connection pinged at checkout: for a trickle of single-event deliveries that bookkeeping
        cost more than the projections' work.
        """
        head = self.store.head()
        positions = {st.name: st.position for st in self.status(head)}
        # status() is in name order; keep dependency order so a dependent runs after what it reads.
        behind = [name for name in self.projections if positions.get(name, head) < head]
        if behind:
            behind = self._skip_idle(behind, positions, head)
        total = 0
        run = Pass(head, positions)
        for name in behind:
            try:
                total += self.catch_up(name, run=run)
            except PositionMoved:
                log.info("another runner advanced the projection", extra={"projection": name})
                run.positions[name] = self.position(name)
        return total

    def _skip_idle(self, behind: list[str], positions: dict[str, int], head: int) -> list[str]:
        """Move every projection that reads none of the unread events (and waits on no other) to ``head``
        in one transaction; the ones left still have events to apply.

        During webhook intake most projections read none of the new events, and stepping each of them
        cost a read of the log and a transaction of its own on every pass.
        """
        low = min(positions[name] for name in behind)
        if head - low > self.idle_scan_limit:
            return behind
        present = self._topics_between(low, head)
        idle = [
            name
            for name in behind
            if self.projections[name].topics
            and not self.projections[name].after
            and present.isdisjoint(self.projections[name].topics)
        ]
        if not idle:
            return behind
        try:
            with self.db.transaction() as tx:
                for name in idle:
                    self._advance(tx, name, positions[name], head)
        except PositionMoved:
            # Another runner moved one of them: let the per-projection path sort it out.
            return behind
        positions.update(dict.fromkeys(idle, head))
        return [name for name in behind if name not in idle]

    def _topics_between(self, low: int, high: int) -> set[str]:
        recorder = self.store.recorder
        column = "rowid" if self.db.dialect == "sqlite" else "notification_id"
        rows = self.db.query(
            f"SELECT DISTINCT topic FROM {recorder.events_table_name} WHERE {column} > ? AND {column} <= ?",
            (low, high),
        )
        return {r["topic"] for r in rows}

    def reset(self, name: str) -> None:
        """Drop the projection's tables and position, and recreate them empty."""
        projection = self.projections[name]
        with self.db.transaction() as tx:
            for table in projection.tables():
                tx.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in projection.create_statements(self.db.dialect):
                tx.execute(statement)
            tx.execute(
                f"UPDATE {POSITIONS_TABLE} SET position = 0, version = ?, updated_at = ? WHERE name = ?",
                (projection.version, _now(), name),
            )

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Rebuild from zero: drop, recreate, replay the whole log."""
        if name not in self.projections:
            raise NotFound(f"no projection named {name!r}", known=sorted(self.projections))
        self.reset(name)
        return self.catch_up(name, progress)

    def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        """Block until every projection has applied ``position`` (read-your-writes for commands)."""
        deadline = time.monotonic() + timeout
        while True:
            self._wake.set()
            if all(st.position >= position for st in self.status()):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def _ceiling(self, projection: Projection) -> int:
        head = self.store.head()
        if not projection.after:
            return head
        return min(head, *(self.position(name) for name in projection.after))

    def _advance(self, tx: Tx, name: str, start: int, end: int) -> None:
        tx.execute(
            f"UPDATE {POSITIONS_TABLE} SET position = ?, updated_at = ? WHERE name = ? AND position = ?",
            (end, _now(), name, start),
        )
        if tx.rowcount != 1:
            raise PositionMoved(name)

    # -- background loop (embedded default and `tidings worker`) -------------------------------

    def notify(self, _notification_id: int = 0) -> None:
        """Wake the loop now (called after each local save)."""
        self._wake.set()

    def run(self, interval: float = 0.2, settle: float = 0.02) -> None:
        """Follow the log until ``stop()``; errors are logged and retried with backoff.

        After a pass it waits at least ``settle`` seconds even when woken, so that a stream of saves is
        applied in batches rather than one pass per save.
        """
        delay = interval
        while not self._stop.is_set():
            try:
                self.catch_up_all()
                self.tick_due()
                delay = interval
            except Exception:
                log.exception("projection runner failed; retrying")
                delay = min(delay * 2, 10.0)
            self._stop.wait(settle)
            self._wake.wait(delay)
            self._wake.clear()

    def tick_due(self, now: float | None = None) -> list[str]:
        """Call ``tick`` on projections whose interval has passed; returns their names."""
        now = time.monotonic() if now is None else now
        ticked = []
        for name, projection in self.projections.items():
            every = projection.tick_seconds
            if every is None or now - self._ticked.get(name, float("-inf")) < every:
                continue
            self._ticked[name] = now
            projection.tick(self.db)
            ticked.append(name)
        return ticked

    def start(self, interval: float = 0.2) -> None:
        """Run the loop in a daemon thread (one at a time: starting a running runner changes nothing)."""
        if self._thread is not None and self._thread.is_alive():
            # A second loop would outlive ``stop`` (which joins one thread) and could still be reading
            # when the store is closed under it.
            return
        if not self._listening:
            self.store.on_saved(self.notify)
            self._listening = True
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, args=(interval,), name="projections", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop and wait for the current batch to finish."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)


def _now() -> str:
    return datetime.now(UTC).isoformat()
