"""A projection that reads another one's tables never runs ahead of it, and a pass runs it afterwards."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import pytest

from interfaces.bootstrap import Container, build
from interfaces.config import Settings
from projections.api_keys import ApiKeysProjection
from projections.db import Tx
from projections.projection import Projection
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
