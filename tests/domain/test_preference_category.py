"""Preference categories: define, update, archive — given-events → when-command → then-events/then-error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.api_key import InvalidName
from domain.preference_category import (
    CategoryArchived,
    InvalidCategoryKey,
    PreferenceCategory,
    category_id,
)
from domain.preference_sources import InvalidInstant, UnknownSource
from tests.domain.scenarios import replay

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def given_defined(**changes: object) -> PreferenceCategory:
    """A category with this history (defined, then updated with ``changes`` when given), nothing pending."""
    category = PreferenceCategory.define("news", "News", description="Monthly news", effective_at=T0)
    if changes:
        category.update(**changes)  # type: ignore[arg-type]
    rebuilt = replay(category.collect_events())
    assert isinstance(rebuilt, PreferenceCategory)
    return rebuilt


def test_defining_derives_the_id_from_the_key_and_records_source_and_effective_time() -> None:
    category = PreferenceCategory.define(
        "product-updates", " Product updates ", default_subscribed=False, source="import",
        effective_at=datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1))),
    )  # fmt: skip

    [event] = category.collect_events()
    assert isinstance(event, PreferenceCategory.Defined)
    assert event.originator_id == category_id("product-updates")
    assert (event.key, event.name, event.default_subscribed) == ("product-updates", "Product updates", False)
    assert (event.source, event.effective_at) == ("import", T0)


@pytest.mark.parametrize("key", ["", "News", "-news", "news letter", "x" * 65, "nouvelles-é", 7])
def test_defining_refuses_a_key_that_is_no_slug(key: object) -> None:
    with pytest.raises(InvalidCategoryKey) as raised:
        PreferenceCategory.define(key, "News")  # type: ignore[arg-type]

    assert raised.value.details["field"] == "key"


def test_defining_refuses_an_empty_name_an_unknown_source_and_a_naive_time() -> None:
    with pytest.raises(InvalidName):
        PreferenceCategory.define("news", "  ")
    with pytest.raises(UnknownSource):
        PreferenceCategory.define("news", "News", source="carrier-pigeon")
    with pytest.raises(InvalidInstant):
        PreferenceCategory.define("news", "News", effective_at=datetime(2026, 3, 1))


def test_an_update_records_the_new_values_in_one_event() -> None:
    category = given_defined()

    changed = category.update(name="News & offers", default_subscribed=False, source="admin")

    [event] = category.collect_events()
    assert changed is True
    assert isinstance(event, PreferenceCategory.Updated)
    assert (event.name, event.description, event.default_subscribed) == ("News & offers", "Monthly news", False)


def test_an_update_to_the_same_values_records_nothing() -> None:
    category = given_defined(default_subscribed=False)

    changed = category.update(name="News", description="Monthly news", default_subscribed=False)

    assert changed is False
    assert category.collect_events() == []


def test_archiving_twice_records_one_event_and_an_archived_category_refuses_edits() -> None:
    category = given_defined()

    assert category.archive() is True
    assert category.archive() is False
    assert [type(e) for e in category.collect_events()] == [PreferenceCategory.Archived]
    with pytest.raises(CategoryArchived):
        category.update(name="Old news")
