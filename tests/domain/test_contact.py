"""Contacts: register and update, each as given-events → when-command → then-events/then-error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.contact import KEEP, Contact
from domain.contact_fields import (
    MAX_ATTRIBUTES,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidLocale,
    TooManyAttributes,
    UnknownTimezone,
    clean_attribute_changes,
    clean_locale,
    clean_timezone,
    parse_datetime,
)
from domain.email_address import InvalidEmail, contact_id_for
from tests.domain.scenarios import replay, state


def registered(**attributes: Any) -> Contact:
    contact = Contact.register("ann@example.com", attributes, "Europe/Paris", "en")
    contact.collect_events()
    return contact


# -- registering ------------------------------------------------------------------------------------


def test_registering_normalizes_the_address_and_derives_the_id_from_it() -> None:
    contact = Contact.register("  Ann@Example.COM ", {"plan": "pro", "seats": 3.0}, "europe/paris", "en_us")

    [event] = contact.collect_events()
    assert isinstance(event, Contact.Registered)
    assert event.originator_id == contact_id_for("ann@example.com")
    assert (event.email, event.timezone, event.locale) == ("ann@example.com", "Europe/Paris", "en-US")
    assert event.attributes == {"plan": "pro", "seats": 3}
    assert type(event.attributes["seats"]) is int
    assert contact.email_domain == "example.com"


def test_registering_leaves_out_attributes_given_as_null() -> None:
    contact = Contact.register("ann@example.com", {"plan": None, "vip": False})

    assert contact.attributes == {"vip": False}
    assert (contact.timezone, contact.locale) == (None, None)


@pytest.mark.parametrize("email", ["", "ann", "ann@", "ann@@example.com", 42])
def test_registering_rejects_an_invalid_email_naming_the_field(email: object) -> None:
    with pytest.raises(InvalidEmail) as raised:
        Contact.register(email)

    assert raised.value.details["field"] == "email"


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "", "+02:00", 3, "Europe/Paris/Extra"])
def test_registering_rejects_an_unknown_time_zone_naming_the_field(timezone: object) -> None:
    with pytest.raises(UnknownTimezone) as raised:
        Contact.register("ann@example.com", timezone=timezone)

    assert raised.value.details == {"field": "timezone"}


@pytest.mark.parametrize("locale", ["english", "e", "en-", "en--US", "12", "en US", 7])
def test_registering_rejects_a_malformed_locale_naming_the_field(locale: object) -> None:
    with pytest.raises(InvalidLocale) as raised:
        Contact.register("ann@example.com", locale=locale)

    assert raised.value.details == {"field": "locale"}


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("en", "en"),
        ("EN_gb", "en-GB"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("de-CH-1901", "de-CH-1901"),
    ],
)
def test_locales_take_their_canonical_case(raw: str, canonical: str) -> None:
    assert clean_locale(raw) == canonical


@pytest.mark.parametrize(("raw", "canonical"), [("UTC", "UTC"), ("america/new_york", "America/New_York")])
def test_time_zones_take_their_canonical_spelling(raw: str, canonical: str) -> None:
    assert clean_timezone(raw) == canonical


@pytest.mark.parametrize(
    "name", ["email", "Email", "email_domain", "timezone", "locale", "created_at", "1st", "first name", "a-b", "x" * 65]
)
def test_registering_rejects_a_reserved_or_malformed_attribute_name(name: str) -> None:
    with pytest.raises(InvalidAttributeName) as raised:
        Contact.register("ann@example.com", {name: "x"})

    assert raised.value.details["field"].startswith("attributes.")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"a": 1}, "nested objects"),
        ([1, 2], "nested arrays"),
        (float("nan"), "finite"),
        (2**60, "2^53"),
        ("nul\x00", "NUL"),
        ("x" * 2001, "at most"),
    ],
)
def test_registering_rejects_an_untyped_attribute_value_with_a_clear_message(value: object, message: str) -> None:
    with pytest.raises(InvalidAttributeValue) as raised:
        Contact.register("ann@example.com", {"plan": value})

    assert message in raised.value.message
    assert raised.value.details["field"] == "attributes.plan"


def test_registering_rejects_too_many_attributes() -> None:
    with pytest.raises(TooManyAttributes):
        Contact.register("ann@example.com", {f"a{i}": i for i in range(MAX_ATTRIBUTES + 1)})


# -- updating ---------------------------------------------------------------------------------------


def test_an_update_that_changes_nothing_records_nothing() -> None:
    contact = registered(plan="pro", seats=3, vip=True)

    changed = contact.update({"plan": "pro", "seats": 3.0, "vip": True, "gone": None}, "europe/paris", "EN")

    assert changed is False
    assert contact.collect_events() == []


def test_an_update_records_only_what_differs() -> None:
    contact = registered(plan="pro", seats=3)

    changed = contact.update({"plan": "pro", "seats": 4, "vip": True, "missing": None}, KEEP, None)

    events = contact.collect_events()
    assert changed is True
    assert [type(e) for e in events] == [Contact.AttributesChanged, Contact.LocaleChanged]
    assert (events[0].set, events[0].unset) == ({"seats": 4, "vip": True}, [])
    assert contact.locale is None
    assert contact.timezone == "Europe/Paris"


def test_a_boolean_is_not_the_number_one() -> None:
    contact = registered(flag=1)

    assert contact.update({"flag": True}) is True
    assert contact.attributes == {"flag": True}


def test_null_removes_an_attribute() -> None:
    contact = registered(plan="pro", seats=3)

    contact.update({"plan": None})

    [event] = contact.collect_events()
    assert (event.set, event.unset) == ({}, ["plan"])
    assert contact.attributes == {"seats": 3}


def test_a_refused_update_records_nothing_even_when_other_fields_were_fine() -> None:
    contact = registered(plan="pro")

    with pytest.raises(UnknownTimezone):
        contact.update({"plan": "free"}, "Nowhere/Land")

    assert contact.collect_events() == []
    assert contact.attributes == {"plan": "pro"}


def test_replaying_the_recorded_events_rebuilds_the_contact() -> None:
    contact = Contact.register("ann@example.com", {"plan": "pro"}, "UTC")
    contact.update({"plan": None, "seats": 2}, "Europe/Paris", "fr")

    assert state(replay(contact.collect_events())) == state(contact)


# -- datetimes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024-05-01T10:30:00Z", datetime(2024, 5, 1, 10, 30, tzinfo=UTC)),
        ("2024-05-01 12:30+02:00", datetime(2024, 5, 1, 10, 30, tzinfo=UTC)),
        ("2024-05-01T10:30:00.5-0100", datetime(2024, 5, 1, 11, 30, 0, 500000, tzinfo=UTC)),
    ],
)
def test_iso_dates_and_offset_datetimes_name_an_instant(text: str, instant: datetime) -> None:
    assert parse_datetime(text) == instant


@pytest.mark.parametrize("text", ["2024-05-01T10:30:00", "2024-02-30", "May 1", "20240501", "2024-05-01T25:00Z"])
def test_other_strings_are_not_datetimes(text: str) -> None:
    assert parse_datetime(text) is None


@given(st.datetimes(timezones=st.just(UTC)))
def test_every_instant_written_in_iso_form_parses_back(moment: datetime) -> None:
    assert parse_datetime(moment.isoformat()) == moment


@given(st.dictionaries(st.sampled_from(["plan", "Score", "vip", "signed_up"]),
                       st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.floats(allow_nan=False),
                                 st.text(max_size=5))))  # fmt: skip
def test_checking_checked_attributes_again_changes_nothing(changes: dict[str, Any]) -> None:
    try:
        checked = clean_attribute_changes(changes)
    except (InvalidAttributeName, InvalidAttributeValue):
        return
    assert clean_attribute_changes(checked) is checked  # an import's second check is free
    # A plain copy is checked afresh and comes out the same.
    assert clean_attribute_changes(dict(checked)) == checked


def test_a_plain_dict_is_always_checked_even_with_checked_values_in_it() -> None:
    changes = dict(clean_attribute_changes({"plan": "pro"}))
    changes["nested"] = {"a": 1}
    with pytest.raises(InvalidAttributeValue):
        clean_attribute_changes(changes)
