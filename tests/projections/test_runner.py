"""The projection runner: exactly-once application, durable positions, rebuilds and racing runners."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.domain import event

from domain.errors import NotFound
from domain.events import TidingsAggregate
from interfaces.bootstrap import Container, build
from interfaces.config import Settings
from projections.api_keys import ApiKeysProjection, snapshot
from projections.db import Tx
from projections.projection import Projection
from projections.runner import PositionMoved, ProjectionRunner
from tests.conftest import PG_DSN, PG_URL, drop_pg_schema, new_pg_schema

KEYS = ApiKeysProjection.name
APPLIED = "applied_events"


class AppliedEvents(Projection):
    """Test-only read model: one row per application of an ApiKey event, so a double apply shows."""

    name = APPLIED
    topics = ApiKeysProjection.topics

    def create_statements(self, dialect: str) -> Sequence[str]:
        return [f"CREATE TABLE IF NOT EXISTS {APPLIED} (originator_id TEXT NOT NULL, originator_version INTEGER)"]

    def tables(self) -> Sequence[str]:
        return [APPLIED]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        rows = [(str(e.originator_id), e.originator_version) for e in events]
        tx.executemany(f"INSERT INTO {APPLIED} (originator_id, originator_version) VALUES (?, ?)", rows)


class SeenEvents(Projection):
    """Test-only: keeps the event objects it was given (in memory), to see which were shared."""

    topics = ApiKeysProjection.topics

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[Any] = []

    def create_statements(self, dialect: str) -> Sequence[str]:
        return []

    def tables(self) -> Sequence[str]:
        return []

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        self.seen.extend(events)


class ApiKeysProjectionV2(ApiKeysProjection):
    """The API key read model after a change to its tables' meaning."""

    version = 2


class RunnerProbe(TidingsAggregate):
    """Test-only aggregate: its events share the log but match no ApiKey topic."""

    @event("Noted")
    def note(self) -> None:
        pass


class InterleavingMapper:
    """Runs ``interrupt`` once, at the racy moment: after this runner read its position, before it writes."""

    def __init__(self, inner: Any, interrupt: Callable[[], object]) -> None:
        self._inner = inner
        self._interrupt: Callable[[], object] | None = interrupt

    def to_domain_event(self, notification: Any) -> Any:
        if self._interrupt is not None:
            interrupt, self._interrupt = self._interrupt, None
            interrupt()
        return self._inner.to_domain_event(notification)


def both_projections() -> list[Projection]:
    return [ApiKeysProjection(), AppliedEvents()]


@pytest.fixture
def counted(settings: Settings) -> Iterator[Container]:
    """A container whose runner also counts every event application."""
    c = build(settings, projections=both_projections())
    yield c
    c.close()


@pytest.fixture
def another(settings: Settings) -> Iterator[Callable[..., Container]]:
    """Build more containers on the same database (another process, or a restart); closed afterwards."""
    built: list[Container] = []

    def make(projections: list[Projection] | None = None) -> Container:
        built.append(build(settings, projections=projections or both_projections()))
        return built[-1]

    yield make
    for c in reversed(built):
        c.close()


def some_history(c: Container, keys: int = 3) -> list[UUID]:
    """Issue keys, rename the first and revoke the last; their ids."""
    ids = [c.keys.issue(f"key {i}", "editor").key.id for i in range(keys)]
    c.keys.rename(ids[0], "renamed")
    c.keys.revoke(ids[-1])
    return ids


def probe(c: Container) -> None:
    """Two events of another aggregate type into the same log."""
    p = RunnerProbe()
    p.note()
    c.keys.save(p)


def key_events(c: Container) -> list[tuple[str, int]]:
    """(originator id, version) of every ApiKey event in the store, sorted."""
    notifications = c.store.recorder.select_notifications(start=None, limit=10_000, topics=ApiKeysProjection.topics)
    return sorted((str(n.originator_id), n.originator_version) for n in notifications)


def applications(c: Container) -> list[tuple[str, int]]:
    rows = c.db.query(f"SELECT originator_id, originator_version FROM {APPLIED}")
    return sorted((r["originator_id"], r["originator_version"]) for r in rows)


# -- catching up --------------------------------------------------------------------------------------


def test_catch_up_applies_every_event_exactly_once_and_reaches_the_head(counted: Container) -> None:
    some_history(counted)
    probe(counted)

    applied = counted.runner.catch_up(APPLIED)

    assert applied == 5
    assert applications(counted) == key_events(counted)
    assert counted.runner.position(APPLIED) == counted.store.head()


def test_projections_on_the_same_topics_share_one_read_per_pass_up_to_the_head(settings: Settings) -> None:
    first, second = SeenEvents("seen_first"), SeenEvents("seen_second")
    c = build(settings, projections=[first, second])
    try:
        some_history(c)
        c.runner.catch_up_all()

        assert [(e.originator_id, e.originator_version) for e in first.seen] == key_events_of(c)
        assert len(second.seen) == len(first.seen) == 5
        assert all(a is b for a, b in zip(first.seen, second.seen, strict=True))  # decoded once, not twice
    finally:
        c.close()


def test_a_catch_up_of_several_batches_is_not_held_for_the_next_projection(settings: Settings) -> None:
    first, second = SeenEvents("seen_first"), SeenEvents("seen_second")
    c = build(settings, projections=[first, second])
    c.runner.batch_size = 2
    try:
        some_history(c)
        c.runner.catch_up_all()

        assert len(second.seen) == len(first.seen) == 5
        # Only the last, short batch (reaching the head) is shared.
        assert sum(a is b for a, b in zip(first.seen, second.seen, strict=True)) == 1
    finally:
        c.close()


def key_events_of(c: Container) -> list[tuple[UUID, int]]:
    notifications = c.store.recorder.select_notifications(start=None, limit=10_000, topics=ApiKeysProjection.topics)
    return [(n.originator_id, n.originator_version) for n in notifications]


def test_a_second_catch_up_applies_nothing(counted: Container) -> None:
    some_history(counted)
    counted.runner.catch_up(APPLIED)

    assert counted.runner.catch_up(APPLIED) == 0
    assert applications(counted) == key_events(counted)


def test_catching_up_in_several_rounds_applies_each_event_once(counted: Container) -> None:
    for _ in range(3):
        some_history(counted, keys=2)
        probe(counted)
        counted.runner.catch_up_all()

    assert applications(counted) == key_events(counted)
    assert len(applications(counted)) == 12


def test_small_batches_skip_other_topics_and_still_end_at_the_head(container: Container) -> None:
    for i in range(5):
        container.keys.issue(f"key {i}", "editor")
        probe(container)
    runner = ProjectionRunner(container.store, container.keys.mapper, container.db, [ApiKeysProjection()], 2)

    applied = runner.catch_up(KEYS)

    assert applied == 5
    assert runner.position(KEYS) == container.store.head()
    assert sorted(r["name"] for r in snapshot(container.db)) == [f"key {i}" for i in range(5)]


def test_catch_up_counts_only_the_events_it_applied(container: Container) -> None:
    container.keys.issue("one", "editor")
    container.keys.issue("two", "editor")
    probe(container)
    runner = ProjectionRunner(container.store, container.keys.mapper, container.db, [ApiKeysProjection()], 2)

    assert runner.catch_up(KEYS) == 2


# -- positions, resets and versions ----------------------------------------------------------------------


def test_positions_survive_building_a_new_container_on_the_same_database(
    counted: Container, another: Callable[..., Container]
) -> None:
    some_history(counted)
    counted.runner.catch_up_all()
    position = counted.runner.position(KEYS)

    restarted = another()

    assert restarted.runner.position(KEYS) == position == restarted.store.head()
    assert restarted.runner.catch_up_all() == 0
    assert applications(restarted) == key_events(restarted)


def test_reset_then_catch_up_equals_the_incrementally_built_table(container: Container) -> None:
    ids = some_history(container)
    container.runner.catch_up(KEYS)
    container.keys.rename(ids[1], "renamed later")
    probe(container)
    container.runner.catch_up(KEYS)
    incremental = snapshot(container.db)

    container.runner.reset(KEYS)
    assert (snapshot(container.db), container.runner.position(KEYS)) == ([], 0)
    container.runner.catch_up(KEYS)

    assert snapshot(container.db) == incremental
    assert container.runner.position(KEYS) == container.store.head()


def test_rebuild_equals_the_incrementally_built_table(container: Container) -> None:
    some_history(container)
    container.runner.catch_up(KEYS)
    incremental = snapshot(container.db)

    assert container.runner.rebuild(KEYS) == 5
    assert snapshot(container.db) == incremental


def test_rebuilding_an_unknown_projection_raises_not_found(container: Container) -> None:
    with pytest.raises(NotFound) as raised:
        container.runner.rebuild("no_such_view")

    assert KEYS in raised.value.details["known"]


def test_bumping_a_projection_version_makes_setup_rebuild_it(
    container: Container, another: Callable[..., Container]
) -> None:
    some_history(container)
    container.runner.catch_up(KEYS)
    before = snapshot(container.db)

    upgraded = another([ApiKeysProjectionV2()])

    [status] = upgraded.runner.status()
    assert (status.version, status.position, snapshot(upgraded.db)) == (2, 0, [])
    upgraded.runner.catch_up(KEYS)
    assert snapshot(upgraded.db) == before
    again = another([ApiKeysProjectionV2()])
    assert again.runner.position(KEYS) == again.store.head()


# -- status and waiting ----------------------------------------------------------------------------------


def test_status_reports_the_lag_before_catch_up(container: Container) -> None:
    some_history(container)
    head = container.store.head()

    [before] = [s for s in container.runner.status() if s.name == KEYS]
    container.runner.catch_up(KEYS)
    [after] = [s for s in container.runner.status() if s.name == KEYS]

    assert (before.name, before.version, before.position, before.head, before.lag) == (KEYS, 1, 0, head, head)
    assert (after.position, after.lag) == (head, 0)
    assert after.updated_at is not None


def test_wait_for_returns_true_once_the_background_runner_has_caught_up(container: Container) -> None:
    container.runner.start(interval=0.05)
    some_history(container)

    assert container.runner.wait_for(container.store.head(), timeout=30)
    assert container.settle(timeout=30)
    assert len(snapshot(container.db)) == 3


def test_wait_for_returns_false_on_timeout_when_nothing_runs(container: Container) -> None:
    some_history(container)

    assert not container.runner.wait_for(container.store.head(), timeout=0.05)
    assert not container.settle(timeout=0.05)
    assert container.runner.position(KEYS) == 0


# -- racing runners -------------------------------------------------------------------------------------


def test_runners_on_the_same_database_taking_turns_apply_each_event_once(
    counted: Container, another: Callable[..., Container]
) -> None:
    some_history(counted, keys=4)
    probe(counted)
    other = another()
    runners = [
        ProjectionRunner(c.store, c.keys.mapper, c.db, both_projections(), batch_size=1) for c in (counted, other)
    ]

    applied = [0, 0]
    while True:
        steps = [runner.step(APPLIED) for runner in runners]
        applied = [a + s for a, s in zip(applied, steps, strict=True)]
        if steps == [0, 0]:
            break

    assert applications(counted) == key_events(counted)
    assert min(applied) > 0
    assert counted.runner.position(APPLIED) == counted.store.head()


def test_a_runner_that_lost_the_race_rolls_back_its_batch(
    counted: Container, another: Callable[..., Container]
) -> None:
    some_history(counted)
    other = another()
    winner = counted.runner
    loser = ProjectionRunner(
        other.store,
        InterleavingMapper(other.keys.mapper, lambda: winner.catch_up(APPLIED)),
        other.db,
        both_projections(),
    )

    with pytest.raises(PositionMoved):
        loser.step(APPLIED)

    assert applications(counted) == key_events(counted)
    assert loser.position(APPLIED) == counted.store.head()


def test_catch_up_all_absorbs_a_lost_race(counted: Container, another: Callable[..., Container]) -> None:
    some_history(counted)
    other = another()
    winner = counted.runner
    loser = ProjectionRunner(
        other.store,
        InterleavingMapper(other.keys.mapper, winner.catch_up_all),
        other.db,
        both_projections(),
    )

    loser.catch_up_all()

    assert applications(counted) == key_events(counted)
    assert sorted(r["name"] for r in snapshot(counted.db)) == ["key 1", "key 2", "renamed"]


# -- schema isolation on PostgreSQL ----------------------------------------------------------------------


class IsolationProbe(Projection):
    """A read model with a table name no other test uses, so a leak into ``public`` can be cleaned up."""

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]

    def create_statements(self, dialect: str) -> Sequence[str]:
        return [f"CREATE TABLE IF NOT EXISTS {self.name} (id TEXT)"]

    def tables(self) -> Sequence[str]:
        return [self.name]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        pass


@pytest.mark.postgres
def test_read_model_tables_live_in_the_configured_schema(tmp_path: Path) -> None:
    schema = new_pg_schema()
    table = f"iso_{schema}"
    c = build(
        Settings(data_dir=tmp_path, database_url=f"{PG_URL}?schema={schema}"), projections=[IsolationProbe(table)]
    )
    try:
        with psycopg.connect(PG_DSN) as conn:
            # public.projection_positions may exist for other reasons; the probe's own table may not.
            where = conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL",
                (f'"{schema}".projection_positions', f'"{schema}"."{table}"', f'public."{table}"'),
            ).fetchone()
        assert where == (True, True, False)
    finally:
        c.close()
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            # Clean up only what this test leaked: its own table and position row.
            conn.execute(f'DROP TABLE IF EXISTS public."{table}"')
            if conn.execute("SELECT to_regclass('public.projection_positions')").fetchone()[0]:
                conn.execute("DELETE FROM public.projection_positions WHERE name = %s", (table,))
        drop_pg_schema(schema)
