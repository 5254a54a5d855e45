"""A contact's tag set: adding what is there or removing what is not records nothing; replay rebuilds it."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4, uuid5

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from domain.ids import TAG_SETS
from domain.tag_set import TagSet, tag_set_id
from tests.domain.scenarios import replay, state

CONTACT = UUID("3f0c1d4e-9a1b-4c2d-8e3f-5a6b7c8d9e0f")
A, B, C = (uuid5(CONTACT, n) for n in "abc")


def names_and_ids(tag_set: TagSet) -> list[tuple[str, list[UUID]]]:
    return [(type(e).__name__, list(e.tag_ids)) for e in tag_set.collect_events()]


def given(*tags: UUID) -> TagSet:
    tag_set = TagSet.change(None, CONTACT, tags, [])
    assert tag_set is not None
    return replay(tag_set.collect_events())  # type: ignore[no-any-return]


def test_the_id_is_derived_from_the_contact() -> None:
    assert tag_set_id(CONTACT) == uuid5(TAG_SETS, str(CONTACT))
    assert given(A).id == tag_set_id(CONTACT)


def test_the_first_tagging_creates_the_set_with_its_tags() -> None:
    tag_set = TagSet.change(None, CONTACT, [A, B, A], [])

    assert tag_set is not None
    events = list(tag_set.collect_events())
    assert [(type(e).__name__, e.contact_id, e.tag_ids) for e in events] == [("Created", CONTACT, [A, B])]


def test_nothing_exists_after_removing_from_a_contact_never_tagged() -> None:
    assert TagSet.change(None, CONTACT, [], [A]) is None
    assert TagSet.change(None, CONTACT, [A], [A]) is None


def test_adding_records_only_the_new_tags_with_the_contact() -> None:
    tag_set = given(A)

    TagSet.change(tag_set, CONTACT, [A, B], [])

    events = list(tag_set.collect_events())
    assert [(type(e).__name__, e.contact_id, e.tag_ids) for e in events] == [("Tagged", CONTACT, [B])]


def test_adding_present_tags_and_removing_absent_ones_records_nothing() -> None:
    tag_set = given(A)

    tag_set.add([A])
    tag_set.remove([B, C])

    assert names_and_ids(tag_set) == []


def test_removing_records_only_the_carried_tags() -> None:
    tag_set = given(A, B)

    TagSet.change(tag_set, CONTACT, [C], [B, C, uuid4()])

    assert names_and_ids(tag_set) == [("Untagged", [B])]
    assert tag_set.tag_ids == {A}


class TagSetLifecycle(RuleBasedStateMachine):
    """Random additions and removals against a plain set."""

    def __init__(self) -> None:
        super().__init__()
        self.tag_set: TagSet | None = None
        self.recorded: list[Any] = []
        self.expected: set[UUID] = set()

    @rule(add=st.lists(st.sampled_from([A, B, C]), max_size=3), remove=st.lists(st.sampled_from([A, B, C]), max_size=3))
    def change(self, add: list[UUID], remove: list[UUID]) -> None:
        before = set(self.expected)
        self.tag_set = TagSet.change(self.tag_set, CONTACT, add, remove)
        self.expected = (self.expected - set(remove)) | (set(add) - set(remove))
        new = list(self.tag_set.collect_events()) if self.tag_set else []
        self.recorded.extend(new)
        assert bool(new) == (self.expected != before)

    @invariant()
    def replay_rebuilds_the_live_set(self) -> None:
        if self.tag_set is None:
            assert self.recorded == []
            return
        assert self.tag_set.tag_ids == self.expected
        assert state(replay(self.recorded)) == state(self.tag_set)


TagSetLifecycle.TestCase.settings = settings(max_examples=50, stateful_step_count=15, deadline=None)
TestTagSetLifecycle = TagSetLifecycle.TestCase
