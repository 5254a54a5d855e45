"""Idle projections (none of the unread events is theirs) move to the head without reading the log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from interfaces.bootstrap import Container, build
from interfaces.config import Settings
from projections.api_keys import ApiKeysProjection
from tests.projections.test_runner import APPLIED, AppliedEvents, applications, key_events, probe, some_history


class CountingKeys(ApiKeysProjection):
    """The API key read model, counting every batch handed to it (an idle pass hands it none)."""

    batches: list[int] = []

    def apply(self, tx: Any, events: Sequence[Any]) -> None:
        type(self).batches.append(len(events))
        super().apply(tx, events)


@pytest.fixture
def counting(settings: Settings) -> Iterator[Container]:
    CountingKeys.batches = []
    c = build(settings, projections=[CountingKeys(), AppliedEvents()])
    yield c
    c.close()


def test_a_pass_over_other_topics_moves_idle_projections_to_the_head_without_applying(counting: Container) -> None:
    some_history(counting)
    counting.runner.catch_up_all()
    before = list(CountingKeys.batches)

    probe(counting)  # events no projection here reads
    counting.runner.catch_up_all()

    head = counting.store.head()
    assert {st.name: st.position for st in counting.runner.status()} == {ApiKeysProjection.name: head, APPLIED: head}
    assert CountingKeys.batches == before  # no batch, not even an empty one


def test_idle_skipping_and_stepping_interleaved_apply_every_event_exactly_once(counting: Container) -> None:
    for _ in range(3):
        some_history(counting, keys=2)
        probe(counting)
        counting.runner.catch_up_all()
        probe(counting)
        counting.runner.catch_up_all()

    assert applications(counting) == key_events(counting)


def test_a_long_unread_stretch_goes_projection_by_projection(counting: Container) -> None:
    counting.runner.idle_scan_limit = 1
    some_history(counting)
    probe(counting)
    counting.runner.catch_up_all()

    assert applications(counting) == key_events(counting)
    assert all(st.position == counting.store.head() for st in counting.runner.status())
