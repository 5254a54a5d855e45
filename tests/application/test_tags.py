"""Tag use cases over the real store (SQLite and PostgreSQL): auto-created paths, idempotent removal, bulk."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from application.tags import BULK_BATCH, MAX_BULK_CONTACTS, TagInAddAndRemove, TooManyContacts, _retrying
from domain.errors import Conflict
from domain.events import caused_by
from domain.ids import TAG_CATALOGUE
from domain.tag_catalogue import TagExists, TagInUse, UnknownTag
from domain.tag_paths import InvalidTagPath
from domain.tag_set import TagSet, tag_set_id
from interfaces.bootstrap import Container
from projections.tags import contact_tags, get_tag


def paths_of(container: Container, contact_id: UUID) -> list[str]:
    tag_set = container.tags.tag_set(contact_id)
    catalogue = container.tags.catalogue()
    return sorted(catalogue.path_of(t) for t in tag_set.tag_ids) if tag_set else []


def test_tagging_with_a_new_path_creates_it_in_the_same_save(container: Container) -> None:
    contact = uuid4()
    head = container.store.head()

    container.tags.tag(contact, add=["interests/sports"])

    assert paths_of(container, contact) == ["interests/sports"]
    notifications = container.store.recorder.select_notifications(start=head + 1, limit=10)
    # One save: the catalogue's start, both nodes and the new tag set, in consecutive positions.
    assert [n.originator_id for n in notifications] == [TAG_CATALOGUE] * 3 + [tag_set_id(contact)]
    assert [n.id for n in notifications] == list(range(notifications[0].id, notifications[0].id + 4))


def test_tagging_with_known_paths_leaves_the_catalogue_alone(container: Container) -> None:
    container.tags.create("vip")
    version = container.tags.catalogue().version

    container.tags.tag(uuid4(), add=["vip"])

    assert container.tags.catalogue().version == version


def test_removing_an_unknown_path_is_a_no_op(container: Container) -> None:
    contact = uuid4()
    container.tags.tag(contact, add=["vip"])
    version = container.tags.tag_set(contact).version  # type: ignore[union-attr]

    container.tags.tag(contact, remove=["never/created", "vip/child"])

    assert container.tags.tag_set(contact).version == version  # type: ignore[union-attr]
    assert container.tags.catalogue().find("never/created") is None


def test_removing_from_a_contact_never_tagged_saves_nothing(container: Container) -> None:
    head = container.store.head()

    container.tags.tag(uuid4(), remove=["vip"])

    assert container.store.head() == head


def test_an_invalid_path_names_the_list_and_index(container: Container) -> None:
    with pytest.raises(InvalidTagPath) as caught:
        container.tags.tag(uuid4(), add=["ok"], remove=["fine", "Not/Fine"])

    assert caught.value.details["field"] == "remove"
    assert caught.value.details["index"] == 1
    assert caught.value.details["segment"] == "Not"
    assert container.store.head() == 0


def test_refuses_the_same_path_in_add_and_remove(container: Container) -> None:
    with pytest.raises(TagInAddAndRemove) as caught:
        container.tags.tag(uuid4(), add=["a", "b"], remove=["b"])

    assert caught.value.details == {"paths": ["b"]}


def test_every_tag_change_is_attributed(container: Container) -> None:
    contact = uuid4()
    with caused_by("api_key:7", request_id="req-9"):
        container.tags.tag(contact, add=["vip"])

    events = list(container.tags.events.get(tag_set_id(contact)))
    assert [(type(e), e.actor, e.request_id) for e in events] == [(TagSet.Created, "api_key:7", "req-9")]


def test_bulk_tagging_saves_in_batches_and_counts_changed_sets(container: Container) -> None:
    contacts = [uuid4() for _ in range(BULK_BATCH + 3)]
    container.tags.tag(contacts[0], add=["customers/2026"])

    changed = container.tags.tag_many([*contacts, contacts[1]], add=["customers/2026", "newsletter"])
    again = container.tags.tag_many(contacts, add=["newsletter"])

    assert changed == len(contacts)
    assert again == 0
    assert paths_of(container, contacts[-1]) == ["customers/2026", "newsletter"]
    assert paths_of(container, contacts[0]) == ["customers/2026", "newsletter"]


def test_bulk_removal_only_touches_contacts_that_carry_the_tag(container: Container) -> None:
    carriers, others = [uuid4() for _ in range(3)], [uuid4() for _ in range(2)]
    container.tags.tag_many(carriers, add=["trial"])

    assert container.tags.tag_many(carriers + others, remove=["trial"]) == 3
    assert all(container.tags.tag_set(c).tag_ids == set() for c in carriers)  # type: ignore[union-attr]
    assert all(container.tags.tag_set(c) is None for c in others)


def test_bulk_tagging_has_a_limit(container: Container) -> None:
    with pytest.raises(TooManyContacts):
        container.tags.tag_many([uuid4()] * (MAX_BULK_CONTACTS + 1), add=["x"])


def test_deleting_a_carried_tag_needs_force(container: Container) -> None:
    contact = uuid4()
    container.tags.tag(contact, add=["events/2025/berlin"])
    container.runner.catch_up_all()

    with pytest.raises(TagInUse) as caught:
        container.tags.delete("events")
    assert caught.value.details["contacts"] == 1

    deleted = container.tags.delete("events", force=True)
    container.runner.catch_up_all()
    assert len(deleted) == 3
    assert contact_tags(container.db, contact) == []
    assert get_tag(container.db, "events") is None


def test_edits_rename_and_move_in_one_save(container: Container) -> None:
    container.tags.create("a/b/c")
    container.tags.create("x")

    new_path = container.tags.edit("a/b", slug="bee", parent="x", description="moved")

    assert new_path == "x/bee"
    catalogue = container.tags.catalogue()
    assert catalogue.path_of(catalogue.get("x/bee/c").id) == "x/bee/c"
    assert catalogue.get("x/bee").description == "moved"


def test_catalogue_rules_surface_unchanged(container: Container) -> None:
    container.tags.create("a")

    with pytest.raises(TagExists):
        container.tags.create("a")
    with pytest.raises(UnknownTag):
        container.tags.edit("b", description="x")
    with pytest.raises(UnknownTag):
        container.tags.delete("b")


def test_a_version_clash_is_retried_but_a_rule_is_the_answer() -> None:
    calls: list[int] = []

    def clashes_twice() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise Conflict("another change was saved first")
        return "done"

    def duplicate() -> str:
        calls.append(1)
        raise TagExists("exists")

    assert _retrying(clashes_twice) == "done"
    calls.clear()
    with pytest.raises(TagExists):
        _retrying(duplicate)
    assert len(calls) == 1


def test_concurrent_catalogue_edits_conflict_instead_of_losing_one(container: Container) -> None:
    container.tags.create("a")
    first, second = container.tags.catalogue(), container.tags.catalogue()
    first.create("b")
    second.create("c")
    container.tags.save(first)

    with pytest.raises(Conflict) as caught:
        container.tags.save(second)

    assert type(caught.value) is Conflict
    assert container.tags.catalogue().find("b") is not None
    assert container.tags.catalogue().find("c") is None
