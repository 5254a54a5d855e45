"""Suppression use cases over the real store (SQLite and PostgreSQL): by address, idempotent, cause-aware."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.email_address import InvalidEmail
from domain.suppression import suppression_id
from interfaces.bootstrap import Container

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_suppressing_an_address_that_is_no_contact_works_and_normalizes_it(container: Container) -> None:
    assert container.suppressions.suppress(" Bob@Example.COM", "hard_bounce", "esp", "evt-1", T0) is True

    record = container.suppressions.find("bob@example.com")
    assert record is not None
    assert (record.address, record.active, record.reason, record.suppressed_at) == (
        "bob@example.com", True, "hard_bounce", T0,
    )  # fmt: skip
    assert record.id == suppression_id("bob@example.com")


def test_suppressing_twice_saves_once(container: Container) -> None:
    container.suppressions.suppress("bob@example.com", "manual")
    head = container.store.head()

    assert container.suppressions.suppress("bob@example.com", "manual") is False
    assert container.store.head() == head


def test_a_replayed_cause_does_not_re_suppress_a_lifted_address(container: Container) -> None:
    container.suppressions.suppress("bob@example.com", "hard_bounce", "esp", "evt-1")
    assert container.suppressions.lift("bob@example.com", "admin") is True

    assert container.suppressions.suppress("bob@example.com", "hard_bounce", "esp", "evt-1") is False
    record = container.suppressions.find("bob@example.com")
    assert record is not None and record.active is False


def test_a_bounce_reported_while_suppressed_is_not_decided_again_after_a_lift(container: Container) -> None:
    container.suppressions.suppress("bob@example.com", "hard_bounce", "esp", "evt-1")
    assert container.suppressions.suppress("bob@example.com", "hard_bounce", "esp", "evt-2") is False
    assert container.suppressions.lift("bob@example.com", "admin") is True

    assert container.suppressions.suppress("bob@example.com", "hard_bounce", "esp", "evt-2") is False
    record = container.suppressions.find("bob@example.com")
    assert record is not None and record.active is False


def test_a_lift_that_found_nothing_to_lift_is_not_decided_again_after_a_suppression(
    container: Container,
) -> None:
    container.suppressions.suppress("bob@example.com", "manual", "admin")
    container.suppressions.lift("bob@example.com", "admin")
    assert container.suppressions.lift("bob@example.com", "esp", "evt-9", only_reason="esp") is False
    container.suppressions.suppress("bob@example.com", "esp", "esp", "evt-10")

    assert container.suppressions.lift("bob@example.com", "esp", "evt-9", only_reason="esp") is False
    record = container.suppressions.find("bob@example.com")
    assert record is not None and record.active is True


def test_a_repeat_without_a_cause_saves_nothing(container: Container) -> None:
    container.suppressions.suppress("bob@example.com", "manual")
    head = container.store.head()

    assert container.suppressions.suppress("bob@example.com", "manual") is False
    assert container.suppressions.lift("never@example.com", "esp", "evt-1") is False
    assert container.store.head() == head


def test_lifting_only_an_esp_suppression(container: Container) -> None:
    container.suppressions.suppress("bob@example.com", "complaint", "esp", "evt-1")

    assert container.suppressions.lift("bob@example.com", "esp", "evt-2", only_reason="esp") is False
    assert container.suppressions.lift("never@example.com", "admin") is False
    assert container.suppressions.find("never@example.com") is None


def test_an_invalid_address_is_refused(container: Container) -> None:
    with pytest.raises(InvalidEmail):
        container.suppressions.suppress("nobody", "manual")
