"""A saved segment keeps every revision of its definition; replay rebuilds exactly the live segment."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidName
from domain.segment import MAX_DESCRIPTION, InvalidDescription, Segment, SegmentArchived
from tests.domain.scenarios import replay, state

names = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=20)
# A NUL is refused (tests/domain/test_free_text.py); every other character is kept.
descriptions = st.text(st.characters(blacklist_characters="\x00"), max_size=30)
definitions = st.dictionaries(st.sampled_from(["tag", "attribute"]), st.text(max_size=5), min_size=1, max_size=2)
commands = st.lists(
    st.one_of(
        st.tuples(st.just("rename"), names),
        st.tuples(st.just("describe"), descriptions),
        st.tuples(st.just("redefine"), definitions),
        st.tuples(st.just("archive"), st.none()),
    ),
    max_size=12,
)


def _apply(segment: Segment, command: str, value: Any) -> None:
    if command == "archive":
        segment.archive()
    else:
        getattr(segment, command)(value)


@settings(max_examples=150)
@given(first=definitions, steps=commands)
def test_any_history_replays_to_the_live_segment(first: dict[str, Any], steps: list[tuple[str, Any]]) -> None:
    segment = Segment.define(uuid4(), "Newsletter readers", "", first)
    definitions_seen = [first]
    for command, value in steps:
        archived = segment.archived
        try:
            _apply(segment, command, value)
        except SegmentArchived:
            assert archived
            continue
        assert not archived
        if command == "redefine" and value != definitions_seen[-1]:
            definitions_seen.append(value)

    events = segment.collect_events()
    rebuilt = replay(events)
    assert state(rebuilt) == state(segment)
    assert segment.revision == len(definitions_seen)
    assert segment.definition == definitions_seen[-1]
    revisions = [e.revision for e in events if isinstance(e, Segment.Redefined)]
    assert revisions == list(range(2, segment.revision + 1))


def test_an_unchanged_save_records_nothing() -> None:
    segment = Segment.define(uuid4(), "VIPs", "big spenders", {"tag": "vip"})
    segment.collect_events()

    segment.rename(" VIPs ")
    segment.describe("big spenders")
    segment.redefine({"tag": "vip"})

    assert segment.collect_events() == []


def test_names_and_descriptions_are_checked() -> None:
    with pytest.raises(InvalidName):
        Segment.define(uuid4(), "  ", "", {"tag": "vip"})
    with pytest.raises(InvalidDescription):
        Segment.define(uuid4(), "VIPs", "x" * (MAX_DESCRIPTION + 1), {"tag": "vip"})
