"""The suppressions read model: one row per suppressed address, lifted rows deleted, cursor and reason filter,
and rebuild == incremental, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.email_address import contact_id_for
from interfaces.bootstrap import Container
from projections.suppressions import (
    SuppressionsProjection,
    get_suppression,
    list_suppressions,
    snapshot,
    suppression_of_contact,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_a_suppression_row_names_the_contact_id_of_its_address(container: Container) -> None:
    container.suppressions.suppress("Ann@Example.com", "hard_bounce", "esp", "evt-1", T0)
    container.runner.catch_up_all()

    row = get_suppression(container.db, "ann@example.com")

    assert row is not None
    assert (row.contact_id, row.reason, row.source, row.cause) == (
        contact_id_for("ann@example.com"), "hard_bounce", "esp", "evt-1",
    )  # fmt: skip
    assert row.suppressed_at == "2026-03-01T09:00:00.000000+00:00"
    assert suppression_of_contact(container.db, contact_id_for("ann@example.com")) == row


def test_a_new_reason_replaces_the_row_and_a_lift_deletes_it(container: Container) -> None:
    container.suppressions.suppress("ann@example.com", "esp", "esp", "evt-1")
    container.suppressions.suppress("ann@example.com", "complaint", "esp", "evt-2")
    container.runner.catch_up_all()
    row = get_suppression(container.db, "ann@example.com")
    assert row is not None and row.reason == "complaint"

    container.suppressions.lift("ann@example.com", "admin")
    container.runner.catch_up_all()

    assert get_suppression(container.db, "ann@example.com") is None


def test_listing_pages_by_address_and_filters_by_reason(container: Container) -> None:
    for i, reason in enumerate(["manual", "hard_bounce", "manual", "complaint", "manual"]):
        container.suppressions.suppress(f"user{i}@example.com", reason)
    container.runner.catch_up_all()

    first = list_suppressions(container.db, limit=2)
    rest = list_suppressions(container.db, after=first[-1].address, limit=10)
    manual = list_suppressions(container.db, reason="manual")

    assert [r.address for r in first + rest] == [f"user{i}@example.com" for i in range(5)]
    assert [r.address for r in manual] == ["user0@example.com", "user2@example.com", "user4@example.com"]


def test_a_rebuilt_read_model_equals_the_incremental_one(container: Container) -> None:
    container.suppressions.suppress("ann@example.com", "hard_bounce", "esp", "evt-1")
    container.suppressions.suppress("bob@example.com", "manual")
    container.suppressions.lift("ann@example.com", "admin")
    container.suppressions.suppress("ann@example.com", "complaint", "esp", "evt-2")
    container.runner.catch_up_all()
    live = snapshot(container.db)

    container.runner.rebuild(SuppressionsProjection.name)

    assert snapshot(container.db) == live
    assert [r["address"] for r in live] == ["ann@example.com", "bob@example.com"]
