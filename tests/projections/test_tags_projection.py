"""The tags read model on SQLite and PostgreSQL: paths follow renames and moves, counts, contact tags."""

from __future__ import annotations

from uuid import uuid4

from domain.tag_set import TagSet
from interfaces.bootstrap import Container
from projections.tags import TAGS, contact_tags, count_tagged, get_tag, list_tags, snapshot, tag_tree


def caught_up(container: Container) -> Container:
    container.runner.catch_up_all()
    return container


def test_rename_a_subtree_and_every_contacts_tags_follow(container: Container) -> None:
    ann, bob = uuid4(), uuid4()
    container.tags.tag(ann, add=["interests/sports/football", "vip"])
    container.tags.tag(bob, add=["interests/sports", "interests/music"])

    container.tags.edit("interests/sports", slug="sport")
    db = caught_up(container).db

    assert contact_tags(db, ann) == ["interests/sport/football", "vip"]
    assert contact_tags(db, bob) == ["interests/music", "interests/sport"]
    assert get_tag(db, "interests/sports") is None


def test_moving_a_subtree_rewrites_paths_and_depths(container: Container) -> None:
    ann = uuid4()
    container.tags.tag(ann, add=["a/b/c/d"])
    container.tags.create("x/y")

    container.tags.edit("a/b", parent="x/y")
    container.tags.edit("a", parent="x/y/b/c")
    db = caught_up(container).db

    rows = {r.path: (r.depth, r.slug) for r in list_tags(db)}
    assert rows == {
        "x": (1, "x"),
        "x/y": (2, "y"),
        "x/y/b": (3, "b"),
        "x/y/b/c": (4, "c"),
        "x/y/b/c/a": (5, "a"),
        "x/y/b/c/d": (5, "d"),
    }
    assert contact_tags(db, ann) == ["x/y/b/c/d"]
    moved = get_tag(db, "x/y/b")
    assert moved is not None and moved.parent_id == container.tags.catalogue().get("x/y").id


def test_underscores_in_slugs_are_not_wildcards(container: Container) -> None:
    container.tags.create("a_b/child")
    container.tags.create("axb/child")

    container.tags.edit("a_b", slug="renamed")
    db = caught_up(container).db

    assert [r.path for r in list_tags(db)] == ["axb", "axb/child", "renamed", "renamed/child"]


def test_the_tree_counts_distinct_contacts_in_each_subtree(container: Container) -> None:
    ann, bob, cat = uuid4(), uuid4(), uuid4()
    container.tags.tag(ann, add=["i/sports", "i/sports/football", "i/music"])
    container.tags.tag(bob, add=["i/sports/tennis"])
    container.tags.tag(cat, add=["other"])
    db = caught_up(container).db

    tree = tag_tree(db)

    def flat(nodes: list, out: dict) -> dict:  # type: ignore[type-arg]
        for n in nodes:
            out[n.tag.path] = (n.count, n.own_count)
            flat(n.children, out)
        return out

    assert flat(tree, {}) == {
        "i": (2, 0),
        "i/music": (1, 1),
        "i/sports": (2, 1),
        "i/sports/football": (1, 1),
        "i/sports/tennis": (1, 1),
        "other": (1, 1),
    }
    assert [n.tag.path for n in tree] == ["i", "other"]
    assert [n.tag.path for n in tree[0].children] == ["i/music", "i/sports"]
    assert count_tagged(db, [container.tags.catalogue().get("i/sports").id]) == 1


def test_removal_and_deletion_drop_the_rows(container: Container) -> None:
    ann = uuid4()
    container.tags.tag(ann, add=["a", "b/c"])
    container.tags.tag(ann, remove=["a"])
    container.tags.delete("b", force=True)
    db = caught_up(container).db

    assert contact_tags(db, ann) == []
    assert [r.path for r in list_tags(db)] == ["a"]
    assert snapshot(db)["tags_contacts"] == []


def test_a_tagging_that_raced_a_delete_leaves_no_row(container: Container) -> None:
    ann = uuid4()
    container.tags.create("gone")
    stale_id = container.tags.catalogue().get("gone").id
    container.tags.delete("gone")

    # A tagging decided before the delete, saved after it.
    tag_set = TagSet.change(None, ann, [stale_id], [])
    container.tags.save(tag_set)
    db = caught_up(container).db

    assert contact_tags(db, ann) == []
    assert snapshot(db)["tags_contacts"] == []


def test_details_and_creation_time_are_kept(container: Container) -> None:
    container.tags.create("vip", "Big spenders", {"owner": "sales", "rank": 1})
    container.tags.edit("vip", metadata={"owner": "ops"})
    db = caught_up(container).db

    row = get_tag(db, "vip")
    assert row is not None
    assert (row.description, row.metadata, row.depth, row.parent_id) == ("Big spenders", {"owner": "ops"}, 1, None)
    assert len(row.created_at) == len("2026-01-31T12:00:00.000000+00:00")


def test_rebuilding_gives_the_rows_kept_incrementally(container: Container) -> None:
    contacts = [uuid4() for _ in range(5)]
    container.tags.tag_many(contacts, add=["a/b", "c"])
    container.tags.edit("a", slug="z")
    container.tags.tag(contacts[0], remove=["c"], add=["z/b/d"])
    container.tags.edit("z/b", parent="")
    container.tags.delete("c", force=True)
    incremental = snapshot(caught_up(container).db)

    container.runner.rebuild(TAGS)

    assert snapshot(container.db) == incremental
    assert len(incremental["tags_contacts"]) == 6
