"""Suppressions: suppress and lift one address — given-events → when-command → then-events/then-error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.email_address import InvalidEmail
from domain.suppression import Suppression, UnknownReason, suppression_id
from tests.domain.scenarios import replay

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def given_suppressed(reason: str = "hard_bounce", cause: str | None = "evt-1") -> Suppression:
    """An address suppressed once at T0, nothing pending."""
    suppression = Suppression.open("Ann@Example.com", effective_at=T0)
    assert suppression.suppress(reason, "esp", cause, T0)
    rebuilt = replay(suppression.collect_events())
    assert isinstance(rebuilt, Suppression)
    return rebuilt


def test_a_first_suppression_opens_the_record_under_the_normalized_address() -> None:
    suppression = Suppression.open(" Ann@Example.COM ", source="esp", effective_at=T0)

    changed = suppression.suppress("complaint", "esp", "evt-9", T0 + timedelta(seconds=5))

    opened, suppressed = suppression.collect_events()
    assert changed is True
    assert opened.originator_id == suppression_id("ann@example.com")
    assert opened.address == "ann@example.com"
    assert isinstance(suppressed, Suppression.Suppressed)
    assert (suppressed.reason_code, suppressed.source, suppressed.cause) == ("complaint", "esp", "evt-9")
    assert suppressed.effective_at == T0 + timedelta(seconds=5)


def test_suppressing_again_for_the_same_reason_changes_nothing_but_notes_the_cause() -> None:
    suppression = given_suppressed()

    assert suppression.suppress("hard_bounce", "esp", "evt-2") is False
    assert [type(e) for e in suppression.collect_events()] == [Suppression.CauseNoted]
    assert "evt-2" in suppression.causes
    assert suppression.suppress("hard_bounce", "admin") is False
    assert suppression.collect_events() == []


def test_a_new_reason_for_a_suppressed_address_is_recorded() -> None:
    suppression = given_suppressed(reason="esp")

    assert suppression.suppress("complaint", "esp", "evt-2") is True
    assert suppression.reason == "complaint"
    assert [type(e) for e in suppression.collect_events()] == [Suppression.Suppressed]


def test_a_replayed_cause_cannot_suppress_an_address_lifted_since() -> None:
    suppression = given_suppressed(cause="evt-1")
    suppression.lift("admin")
    suppression.collect_events()

    assert suppression.suppress("hard_bounce", "esp", "evt-1") is False
    assert suppression.active is False
    assert suppression.collect_events() == []


def test_lifting_records_the_source_and_clears_the_reason() -> None:
    suppression = given_suppressed()

    assert suppression.lift("admin", effective_at=T0 + timedelta(days=1)) is True

    [event] = suppression.collect_events()
    assert isinstance(event, Suppression.Lifted)
    assert (event.source, event.cause, event.effective_at) == ("admin", None, T0 + timedelta(days=1))
    assert (suppression.active, suppression.reason) == (False, None)


def test_lifting_what_is_not_suppressed_records_nothing() -> None:
    suppression = given_suppressed()
    suppression.lift("admin")
    suppression.collect_events()

    assert suppression.lift("admin") is False
    assert suppression.collect_events() == []


def test_a_lift_for_one_reason_leaves_a_suppression_for_another() -> None:
    suppression = given_suppressed(reason="hard_bounce")

    assert suppression.lift("esp", "evt-removed", only_reason="esp") is False
    assert suppression.active is True
    assert [type(e) for e in suppression.collect_events()] == [Suppression.CauseNoted]


def test_unknown_reasons_and_invalid_addresses_are_refused() -> None:
    with pytest.raises(UnknownReason) as raised:
        given_suppressed().suppress("bored", "admin")
    assert raised.value.details["field"] == "reason"
    with pytest.raises(InvalidEmail):
        Suppression.open("not-an-address")
