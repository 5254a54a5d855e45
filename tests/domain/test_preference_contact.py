"""A contact's preferences: each command as given-events → when-command → then-events/then-error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.contact_preferences import (
    ContactPreferences,
    InvalidFrequency,
    InvalidPause,
    clean_frequency,
    preferences_id,
)
from domain.errors import Invalid
from domain.preference_category import InvalidCategoryKey
from domain.preference_sources import InvalidInstant
from tests.domain.scenarios import replay

CONTACT = UUID("7d1f3a58-2b0e-4c39-8f43-0f3c1c8b5a10")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def given(**change: Any) -> ContactPreferences:
    """Preferences whose history is a start and (when given) one change at T0, nothing pending."""
    prefs = ContactPreferences.start(CONTACT, effective_at=T0)
    if change:
        assert prefs.change(effective_at=T0, **change)
    rebuilt = replay(prefs.collect_events())
    assert isinstance(rebuilt, ContactPreferences)
    return rebuilt


def names(prefs: ContactPreferences) -> list[str]:
    return [type(e).__name__ for e in prefs.collect_events()]


def test_preferences_start_empty_under_an_id_derived_from_the_contact() -> None:
    prefs = ContactPreferences.start(CONTACT)

    assert prefs.id == preferences_id(CONTACT)
    assert (prefs.opted_out, prefs.categories, prefs.frequency, prefs.paused_until) == (False, {}, None, None)
    assert prefs.last_effective_at is None


def test_one_change_records_one_event_per_setting_with_source_effective_time_and_cause() -> None:
    prefs = given()
    until = T0 + timedelta(days=14)

    changed = prefs.change(
        opted_out=True, categories={"news": False, "offers": True}, frequency={"max": 2, "per": "week"},
        paused_until=until, source="esp", effective_at=T0 + timedelta(hours=1), cause="evt-1",
    )  # fmt: skip

    events = prefs.collect_events()
    assert changed is True
    assert [type(e).__name__ for e in events] == ["OptedOut", "CategoriesChosen", "FrequencySet", "Paused"]
    assert {(e.source, e.effective_at, e.cause) for e in events} == {("esp", T0 + timedelta(hours=1), "evt-1")}
    assert events[1].choices == {"news": False, "offers": True}
    assert (prefs.opted_out, prefs.frequency, prefs.paused_until) == (True, {"max": 2, "per": "week"}, until)
    assert prefs.last_effective_at == T0 + timedelta(hours=1)


def test_a_change_to_the_current_values_records_nothing() -> None:
    prefs = given(opted_out=True, categories={"news": False}, frequency={"digest": "weekly"})

    changed = prefs.change(opted_out=True, categories={"news": False}, frequency={"digest": "weekly"})

    assert changed is False
    assert names(prefs) == []


def test_only_the_categories_whose_choice_differs_are_recorded() -> None:
    prefs = given(categories={"news": False, "offers": True})

    prefs.change(categories={"news": True, "offers": True, "events": False})

    [event] = prefs.collect_events()
    assert event.choices == {"events": False, "news": True}


def test_a_cause_already_applied_is_ignored_even_after_a_later_change() -> None:
    prefs = given(opted_out=True, cause="evt-unsub")
    prefs.change(opted_out=False, source="admin")
    prefs.collect_events()

    replayed = prefs.change(opted_out=True, source="esp", cause="evt-unsub")

    assert replayed is False
    assert prefs.opted_out is False
    assert names(prefs) == []


def test_an_esp_resubscribe_applies_only_when_newer_than_our_last_change() -> None:
    prefs = given(opted_out=True)

    older = prefs.opt_in_if_newer(T0 - timedelta(minutes=1), "evt-old")
    same = prefs.opt_in_if_newer(T0, "evt-same")
    newer = prefs.opt_in_if_newer(T0 + timedelta(minutes=1), "evt-new")

    assert (older, same, newer) == (False, False, True)
    [event] = prefs.collect_events()
    assert isinstance(event, ContactPreferences.OptedIn)
    assert (event.source, event.cause) == ("esp", "evt-new")


def test_an_esp_resubscribe_to_a_category_sets_only_that_choice() -> None:
    prefs = given(categories={"news": False})

    assert prefs.opt_in_if_newer(T0 + timedelta(seconds=1), "evt-2", category="news") is True

    assert prefs.categories == {"news": True}
    assert names(prefs) == ["CategoriesChosen"]


def test_unpausing_records_unpaused_and_clears_the_pause() -> None:
    prefs = given(paused_until=T0 + timedelta(days=3))

    prefs.change(paused_until=None)

    assert names(prefs) == ["Unpaused"]
    assert prefs.paused_until is None


@pytest.mark.parametrize("until", [T0, T0 - timedelta(days=1), "2026-04-01T00:00:00Z"])
def test_a_pause_must_end_after_the_change(until: Any) -> None:
    prefs = given()

    with pytest.raises(InvalidPause) as raised:
        prefs.change(paused_until=until, effective_at=T0)

    assert raised.value.details["field"] == "paused_until"
    assert names(prefs) == []


def test_a_pause_without_a_time_zone_is_refused() -> None:
    with pytest.raises(InvalidInstant):
        given().change(paused_until=datetime(2026, 4, 1))


@pytest.mark.parametrize(
    "value",
    [
        {"max": 0, "per": "day"}, {"max": 1001, "per": "day"}, {"max": True, "per": "day"},
        {"max": 2, "per": "year"}, {"max": 2}, {"digest": "hourly"}, {"digest": "daily", "max": 1}, "weekly", 3,
    ],
)  # fmt: skip
def test_a_malformed_frequency_is_refused_naming_the_field(value: object) -> None:
    with pytest.raises(InvalidFrequency) as raised:
        given().change(frequency=value)

    assert raised.value.details == {"field": "frequency"}


@pytest.mark.parametrize(
    "value", [None, {"max": 1, "per": "day"}, {"max": 1000, "per": "month"}, {"digest": "monthly"}]
)
def test_well_formed_frequencies_are_kept_as_given(value: Any) -> None:
    assert clean_frequency(value) == value


def test_a_refused_change_records_nothing_at_all() -> None:
    prefs = given()

    with pytest.raises(Invalid):
        prefs.change(opted_out=True, categories={"news": "yes"})

    assert names(prefs) == []
    assert prefs.opted_out is False


def test_a_category_choice_needs_a_valid_key_named_in_the_error() -> None:
    with pytest.raises(InvalidCategoryKey) as raised:
        given().change(categories={"Big News": True})

    assert raised.value.details["field"] == "categories.Big News"


def test_subscribed_to_takes_the_choice_else_the_default_and_never_when_opted_out() -> None:
    prefs = given(categories={"news": False})

    assert prefs.subscribed_to("news", default_subscribed=True) is False
    assert prefs.subscribed_to("offers", default_subscribed=True) is True
    assert prefs.subscribed_to("offers", default_subscribed=False) is False
    prefs.change(opted_out=True)
    assert prefs.subscribed_to("offers", default_subscribed=True) is False
