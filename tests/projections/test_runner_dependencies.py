"""A projection that reads another one's tables never runs ahead of it, and a pass runs it afterwards."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import pytest

from interfaces.bootstrap import Container, build
from interfaces.config import Settings
from projections.api_keys import ApiKeysProjection
from projections.db import Tx
from projections.projection import Projection, Reactor
from projections.runner import ProjectionRunner

SEEN = "keys_seen"


class KeysSeen(Projection):
    """Test-only: for each key event, records whether the api_keys read model already held the key."""

    name = SEEN
    topics = ApiKeysProjection.topics
    after: ClassVar[tuple[str, ...]] = (ApiKeysProjection.name,)

    def create_statements(self, dialect: str) -> Sequence[str]:
        return [f"CREATE TABLE IF NOT EXISTS {SEEN} (key_id TEXT NOT NULL, present INTEGER NOT NULL)"]

    def tables(self) -> Sequence[str]:
        return [SEEN]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        for e in events:
            found = tx.execute("SELECT 1 AS one FROM api_keys WHERE id = ?", (str(e.originator_id),)).fetchone()
            tx.execute(f"INSERT INTO {SEEN} (key_id, present) VALUES (?, ?)", (str(e.originator_id), int(bool(found))))


@pytest.fixture
def dependent(settings: Settings) -> Iterator[Container]:
    # Listed before what it reads, on purpose: the runner must reorder.
    c = build(settings, projections=[KeysSeen(), ApiKeysProjection()])
    yield c
    c.close()


def test_a_dependent_projection_waits_for_what_it_reads(dependent: Container) -> None:
    for i in range(3):
        dependent.keys.issue(f"key {i}", "analyst")

    assert dependent.runner.catch_up(SEEN) == 0
    assert dependent.runner.position(SEEN) == 0

    dependent.runner.catch_up_all()

    rows = dependent.db.query(f"SELECT present FROM {SEEN}")
    assert [r["present"] for r in rows] == [1, 1, 1]
    assert dependent.runner.position(SEEN) == dependent.runner.position(ApiKeysProjection.name)


def test_unknown_or_cyclic_dependencies_are_refused(container: Container) -> None:
    class Loop(KeysSeen):
        name = "loop_a"
        after = ("loop_b",)

    class Other(KeysSeen):
        name = "loop_b"
        after = ("loop_a",)

    with pytest.raises(ValueError, match="not registered"):
        ProjectionRunner(container.store, container.keys.mapper, container.db, [KeysSeen()])
    with pytest.raises(ValueError, match="cycle"):
        ProjectionRunner(container.store, container.keys.mapper, container.db, [Loop(), Other()])


class Ticking(KeysSeen):
    name = "ticking"
    tick_seconds = 10.0

    def __init__(self) -> None:
        self.ticks = 0

    def tick(self, db: Any) -> None:
        self.ticks += 1


def test_time_dependent_projections_tick_at_their_interval(container: Container) -> None:
    ticking = Ticking()
    runner = ProjectionRunner(container.store, container.keys.mapper, container.db, [ApiKeysProjection(), ticking])

    assert runner.tick_due(now=100.0) == ["ticking"]
    assert runner.tick_due(now=105.0) == []
    assert runner.tick_due(now=110.5) == ["ticking"]
    assert ticking.ticks == 2


class KeyNamer(Reactor):
    """Test-only reactor: sees key events after the key read model has them; fails once when told to."""

    name = "key_namer"
    topics = ApiKeysProjection.topics
    after = (ApiKeysProjection.name,)

    def __init__(self, db: Any) -> None:
        self.db = db
        self.seen: list[tuple[str, bool]] = []
        self.fail_next = False

    def react(self, events: Sequence[Any]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("command store unavailable")
        for e in events:
            present = bool(self.db.query("SELECT 1 AS one FROM api_keys WHERE id = ?", (str(e.originator_id),)))
            self.seen.append((str(e.originator_id), present))


def test_a_reactor_follows_behind_its_read_models_and_retries_a_failed_batch(container: Container) -> None:
    namer = KeyNamer(container.db)
    runner = ProjectionRunner(container.store, container.keys.mapper, container.db, [namer, ApiKeysProjection()])
    runner.setup()
    issued = container.keys.issue("bot", "analyst").key.id

    namer.fail_next = True
    with pytest.raises(RuntimeError):
        runner.catch_up_all()
    assert runner.position("key_namer") == 0
    runner.catch_up_all()

    assert namer.seen == [(str(issued), True)]
    assert runner.position("key_namer") == runner.position(ApiKeysProjection.name)
    with pytest.raises(TypeError):
        namer.apply(None, [])  # type: ignore[arg-type]
