"""The segment conditions ``subscribed``, ``opted_out`` and ``suppressed`` over read models written by the real
commands, on SQLite and PostgreSQL; their refusals; and saved segments following preference changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from application.contacts import ContactInput
from domain.segment_definition_errors import InvalidSegmentDefinition
from interfaces.bootstrap import Container
from projections import segment_engine
from projections.segment_memberships import segments_of

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PEOPLE = ("ann@example.com", "bob@example.com", "cy@example.com", "dee@example.com")


@pytest.fixture
def people(container: Container) -> dict[str, UUID]:
    """Ann chose no news; Bob opted out (after choosing offers); Cy chose offers; Dee's address is suppressed."""
    ids = {email.split("@")[0]: container.contacts.upsert(ContactInput(email))[0].id for email in PEOPLE}
    p = container.preferences
    p.define_category("news", "News", default_subscribed=True)
    p.define_category("offers", "Offers", default_subscribed=False)
    p.choose(ids["ann"], {"news": False}, "contact")
    p.change(ids["bob"], "esp", opted_out=True, categories={"offers": True}, cause="evt-1")
    p.choose(ids["cy"], {"offers": True}, "admin")
    container.suppressions.suppress("dee@example.com", "hard_bounce", "esp", "evt-2")
    container.runner.catch_up_all()
    return ids


def selected(c: Container, people: dict[str, UUID], definition: Any) -> list[str]:
    page = segment_engine.members(c.db, definition, NOW, limit=100)
    names = {v: k for k, v in people.items()}
    assert segment_engine.count(c.db, definition, NOW) == len(page.members)
    return sorted(names[m.id] for m in page.members)


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ({"subscribed": "news"}, ["cy", "dee"]),
        ({"subscribed": "offers"}, ["cy"]),
        ({"subscribed": "no-such-category"}, []),
        ({"not": {"subscribed": "news"}}, ["ann", "bob"]),
        ({"opted_out": True}, ["bob"]),
        ({"opted_out": False}, ["ann", "cy", "dee"]),
        ({"suppressed": True}, ["dee"]),
        ({"suppressed": False}, ["ann", "bob", "cy"]),
        ({"and": [{"subscribed": "news"}, {"suppressed": False}]}, ["cy"]),
        ({"or": [{"opted_out": True}, {"suppressed": True}]}, ["bob", "dee"]),
    ],
)
def test_conditions_select_by_choices_defaults_opt_outs_and_suppressions(
    container: Container, people: dict[str, UUID], definition: Any, expected: list[str]
) -> None:
    assert selected(container, people, definition) == expected


def test_a_changed_category_default_moves_contacts_without_a_choice(container: Container,
                                                                   people: dict[str, UUID]) -> None:  # fmt: skip
    container.preferences.update_category("offers", default_subscribed=True)
    container.runner.catch_up_all()

    assert selected(container, people, {"subscribed": "offers"}) == ["ann", "cy", "dee"]


@pytest.mark.parametrize(
    ("definition", "path"),
    [
        ({"subscribed": "News"}, "$.subscribed"),
        ({"subscribed": 3}, "$.subscribed"),
        ({"subscribed": "news", "exact": True}, "$.exact"),
        ({"opted_out": "yes"}, "$.opted_out"),
        ({"suppressed": None}, "$.suppressed"),
        ({"and": [{"suppressed": True}, {"opted_out": 1}]}, "$.and[1].opted_out"),
    ],
)
def test_malformed_preference_conditions_are_refused_at_their_path(definition: Any, path: str) -> None:
    with pytest.raises(InvalidSegmentDefinition) as caught:
        segment_engine.validate(definition)

    assert caught.value.details["path"] == path


def test_saved_segments_follow_preference_and_suppression_changes(container: Container,
                                                                  people: dict[str, UUID]) -> None:  # fmt: skip
    reachable = container.segments.define("reachable news readers", "", {"and": [
        {"subscribed": "news"}, {"suppressed": False}]}).id  # fmt: skip
    container.runner.catch_up_all()
    assert segments_of(container.db, str(people["cy"])) == [str(reachable)]

    container.preferences.opt_out(people["cy"], "contact")
    container.preferences.choose(people["ann"], {"news": True}, "contact")
    container.suppressions.lift("dee@example.com", "admin")
    container.runner.catch_up_all()

    members = {name for name, cid in people.items() if segments_of(container.db, str(cid))}
    assert members == {"ann", "dee"}
