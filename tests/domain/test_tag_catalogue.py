"""The tag catalogue: given recorded events, a command records new events or is refused by a named rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import pytest
from eventsourcing.utils import get_topic

from domain.ids import TAG_CATALOGUE
from domain.tag_catalogue import (
    MAX_NODES,
    InvalidTagDetails,
    TagCatalogue,
    TagCycle,
    TagExists,
    TagInUse,
    TagTooDeep,
    TooManyTags,
    UnknownTag,
)
from domain.tag_paths import InvalidTagPath
from tests.domain.scenarios import replay

T0 = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
NS = UUID("5b1f6a3e-0d7c-4f43-8a6f-0c9c1f2b7e10")


def node(path: str) -> UUID:
    """A fixed id per path, for readable givens."""
    return uuid5(NS, path)


def started() -> Any:
    return TagCatalogue.Started(  # type: ignore[attr-defined]
        originator_id=TAG_CATALOGUE, originator_version=1, timestamp=T0, originator_topic=get_topic(TagCatalogue)
    )


def given_paths(*paths: str) -> TagCatalogue:
    """A catalogue whose history created exactly these paths (parents listed before children)."""
    events = [started()]
    for version, path in enumerate(paths, start=2):
        parent, _, slug = path.rpartition("/")
        events.append(
            TagCatalogue.NodeCreated(  # type: ignore[attr-defined]
                originator_id=TAG_CATALOGUE, originator_version=version, timestamp=T0 + timedelta(seconds=version),
                node_id=node(path), parent_id=node(parent) if parent else None, slug=slug, description="",
                metadata={},
            )
        )  # fmt: skip
    catalogue = replay(events)
    assert isinstance(catalogue, TagCatalogue)
    return catalogue


def recorded(catalogue: TagCatalogue) -> list[tuple[str, dict[str, Any]]]:
    """The new events' names and payloads (envelope left out)."""
    skip = {"originator_id", "originator_version", "timestamp", "actor", "request_id", "reason", "originator_topic"}
    return [(type(e).__name__, {k: v for k, v in vars(e).items() if k not in skip}) for e in catalogue.collect_events()]


def never_tagged(_: list[UUID]) -> int:
    return 0


def test_creating_a_deep_path_creates_its_missing_ancestors() -> None:
    catalogue = given_paths("interests")

    leaf = catalogue.create("interests/sports/football", "Football fans", {"colour": "green"})

    events = recorded(catalogue)
    assert [(name, e["slug"], e["description"], e["metadata"]) for name, e in events] == [
        ("NodeCreated", "sports", "", {}),
        ("NodeCreated", "football", "Football fans", {"colour": "green"}),
    ]
    assert events[0][1]["parent_id"] == node("interests")
    assert events[1][1]["parent_id"] == events[0][1]["node_id"] == catalogue.get("interests/sports").id
    assert catalogue.path_of(leaf.id) == "interests/sports/football"
    assert catalogue.depth_of(leaf.id) == 3


def test_rejects_creating_a_path_that_exists() -> None:
    catalogue = given_paths("interests", "interests/sports")

    with pytest.raises(TagExists) as caught:
        catalogue.create("interests/sports")

    assert caught.value.details == {"path": "interests/sports"}
    assert recorded(catalogue) == []


def test_rejects_an_invalid_path_naming_the_segment() -> None:
    catalogue = given_paths()

    with pytest.raises(InvalidTagPath) as caught:
        catalogue.create("interests/Sports")

    assert caught.value.details["segment"] == "Sports"
    assert caught.value.details["position"] == 1


def test_ensure_returns_existing_ids_and_creates_the_rest() -> None:
    catalogue = given_paths("vip")

    ids = catalogue.ensure(["vip", "beta/testers", "vip"])

    assert ids[0] == ids[2] == node("vip")
    assert [e["slug"] for _, e in recorded(catalogue)] == ["beta", "testers"]


def test_updating_details_records_the_new_values_and_nothing_when_unchanged() -> None:
    catalogue = given_paths("vip")

    catalogue.edit("vip", description="Big spenders", metadata={"owner": "sales"})
    catalogue.edit("vip", description="Big spenders")

    assert recorded(catalogue) == [
        ("NodeUpdated", {"node_id": node("vip"), "description": "Big spenders", "metadata": {"owner": "sales"}})
    ]


@pytest.mark.parametrize(
    "changes", [{"description": "x" * 2001}, {"metadata": {"big": "x" * 17_000}}, {"metadata": {"n": float("nan")}}]
)
def test_rejects_oversized_or_non_json_details(changes: dict[str, Any]) -> None:
    catalogue = given_paths("vip")

    with pytest.raises(InvalidTagDetails):
        catalogue.edit("vip", **changes)

    assert recorded(catalogue) == []


def test_renaming_changes_the_path_of_the_whole_subtree() -> None:
    catalogue = given_paths("interests", "interests/sports", "interests/sports/football")

    catalogue.edit("interests/sports", slug="sport")

    assert recorded(catalogue) == [("NodeRenamed", {"node_id": node("interests/sports"), "slug": "sport"})]
    assert catalogue.path_of(node("interests/sports/football")) == "interests/sport/football"
    assert catalogue.find("interests/sports") is None


def test_rejects_renaming_onto_a_sibling() -> None:
    catalogue = given_paths("a", "a/b", "a/c")

    with pytest.raises(TagExists):
        catalogue.edit("a/b", slug="c")


def test_rejects_an_invalid_slug() -> None:
    catalogue = given_paths("a")

    with pytest.raises(InvalidTagPath):
        catalogue.edit("a", slug="b/c")


def test_moving_a_subtree_changes_its_paths_and_depths() -> None:
    catalogue = given_paths("a", "a/b", "a/b/c", "x")

    catalogue.edit("a/b", parent="x")

    assert recorded(catalogue) == [("NodeMoved", {"node_id": node("a/b"), "parent_id": node("x")})]
    assert catalogue.path_of(node("a/b/c")) == "x/b/c"
    assert catalogue.get("x/b/c").id == node("a/b/c")


def test_moving_to_the_top_level_uses_an_empty_parent() -> None:
    catalogue = given_paths("a", "a/b")

    catalogue.edit("a/b", parent="")

    assert catalogue.path_of(node("a/b")) == "b"
    assert recorded(catalogue) == [("NodeMoved", {"node_id": node("a/b"), "parent_id": None})]


@pytest.mark.parametrize("target", ["a", "a/b", "a/b/c"])
def test_rejects_moving_a_node_under_itself_or_a_descendant(target: str) -> None:
    catalogue = given_paths("a", "a/b", "a/b/c")

    with pytest.raises(TagCycle):
        catalogue.edit("a", parent=target)
    assert recorded(catalogue) == []


def test_rejects_a_move_onto_an_existing_path() -> None:
    catalogue = given_paths("a", "a/b", "x", "x/b")

    with pytest.raises(TagExists) as caught:
        catalogue.edit("a/b", parent="x")

    assert caught.value.details == {"path": "x/b"}


def test_rejects_a_move_that_makes_the_subtree_too_deep() -> None:
    deep = ["d/1/2/3/4/5/6"[: 2 * i + 1] for i in range(7)]
    catalogue = given_paths(*deep, "a", "a/b", "a/b/c")

    with pytest.raises(TagTooDeep):
        catalogue.edit("a/b", parent="d/1/2/3/4/5/6")  # b/c would be levels 8 and 9
    catalogue.edit("a/b/c", parent="d/1/2/3/4/5/6")  # c alone fits at level 8

    assert catalogue.depth_of(node("a/b/c")) == 8


def test_rejects_moving_under_an_unknown_parent() -> None:
    catalogue = given_paths("a")

    with pytest.raises(UnknownTag):
        catalogue.edit("a", parent="nowhere")


def test_an_edit_is_all_or_nothing_for_the_caller() -> None:
    catalogue = given_paths("a", "a/b", "x", "x/c")

    with pytest.raises(TagExists):
        catalogue.edit("a/b", slug="c", parent="x")  # the rename is fine, the move then collides


def test_deleting_an_untagged_subtree_records_every_removed_id() -> None:
    catalogue = given_paths("a", "a/b", "a/b/c", "z")

    deleted = catalogue.delete("a/b", never_tagged)

    assert deleted == [node("a/b"), node("a/b/c")]
    assert recorded(catalogue) == [
        ("SubtreeDeleted", {"node_id": node("a/b"), "node_ids": deleted, "tagged_contacts": 0})
    ]
    assert catalogue.find("a/b") is None and catalogue.find("a") is not None


def test_refuses_deleting_tags_contacts_carry_unless_forced() -> None:
    catalogue = given_paths("a", "a/b")
    asked: list[list[UUID]] = []

    def two_contacts(ids: list[UUID]) -> int:
        asked.append(ids)
        return 2

    with pytest.raises(TagInUse) as caught:
        catalogue.delete("a", two_contacts)
    assert caught.value.details == {"path": "a", "contacts": 2}
    assert asked == [[node("a"), node("a/b")]]

    catalogue.delete("a", two_contacts, force=True)
    assert [e["tagged_contacts"] for _, e in recorded(catalogue)] == [2]


def test_a_deleted_path_created_again_gets_a_new_id() -> None:
    catalogue = given_paths("a")

    catalogue.delete("a", never_tagged)
    again = catalogue.create("a")

    assert again.id != node("a")


def test_the_catalogue_has_a_size_limit() -> None:
    catalogue = given_paths(*(f"n{i}" for i in range(MAX_NODES - 1)))
    catalogue.create("the-last")

    with pytest.raises(TooManyTags):
        catalogue.create("one-more")
    with pytest.raises(TooManyTags):
        catalogue.ensure(["n1/child"])


def test_unknown_paths_are_reported_as_not_found() -> None:
    catalogue = given_paths("a")

    with pytest.raises(UnknownTag) as caught:
        catalogue.edit("b", description="x")

    assert caught.value.details == {"path": "b"}
    assert catalogue.existing(["a", "b"]) == [node("a")]


def test_an_edit_names_the_new_parent_as_it_was_before_the_edit() -> None:
    catalogue = given_paths("a", "a/b", "a/b/c")

    with pytest.raises(TagCycle):
        catalogue.edit("a/b", slug="z", parent="a/b/c")
