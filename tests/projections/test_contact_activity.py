"""The contact_activity read model: each normalized email event linked to its recipient's contact."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from application.intake import Delivery
from domain.email_address import contact_id_for
from domain.email_event import EmailEventType, NormalizedEvent
from interfaces.bootstrap import Container
from projections.contact_activity import TABLE

T0 = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
CONNECTION = UUID("0b6f6a4e-3c39-4b7e-9d7a-8a3c7d1e2f00")


def event(
    recipient: str, kind: EmailEventType = EmailEventType.OPENED, esp_id: str = "e1", **meta: str
) -> NormalizedEvent:
    return NormalizedEvent(kind, kind.value, recipient, T0, provider_event_id=esp_id, metadata=meta).keyed()


def hashed(recipient: str) -> NormalizedEvent:
    """An event the ESP gave no id: keyed by its item's hash, which a re-normalization keeps."""
    return NormalizedEvent(EmailEventType.DELIVERED, "delivered", recipient, T0, key="sha256:item-1")


def deliver(c: Container, *events: NormalizedEvent) -> UUID:
    delivery_id = uuid4()
    c.intake.record([Delivery(delivery_id, CONNECTION, "test", {}, "{}", "test", None, list(events), [])])
    c.runner.catch_up_all()
    return delivery_id


def rows(c: Container) -> list[dict[str, Any]]:
    return c.db.query(f"SELECT id, contact_id, type, campaign_id, occurred_at FROM {TABLE} ORDER BY id")


def test_links_each_event_to_the_contact_of_its_normalized_recipient(container: Container) -> None:
    deliver(container, event("Ann@Example.COM", tidings_campaign_id="cmp-1"), event("bob@example.com", esp_id="e2"))

    found = {r["contact_id"]: r for r in rows(container)}

    ann = found[str(contact_id_for("ann@example.com"))]
    assert (ann["type"], ann["campaign_id"], ann["occurred_at"]) == (
        "opened",
        "cmp-1",
        "2026-11-01T09:30:00.000000+00:00",
    )
    assert found[str(contact_id_for("bob@example.com"))]["campaign_id"] is None


def test_rows_carry_the_email_event_ids(container: Container) -> None:
    deliver(container, event("ann@example.com"), event("bob@example.com", EmailEventType.CLICKED, "e2"))

    email_event_ids = {r["id"] for r in container.db.query("SELECT id FROM email_events")}

    assert {r["id"] for r in rows(container)} == email_event_ids
    assert len(email_event_ids) == 2


def test_a_redelivered_event_is_counted_once(container: Container) -> None:
    deliver(container, event("ann@example.com"), event("ann@example.com"))
    deliver(container, event("ann@example.com"))

    assert len(rows(container)) == 1


def test_leaves_out_events_whose_recipient_is_no_address(container: Container) -> None:
    deliver(container, event("not an address", esp_id="e1"), event("ann@example.com", esp_id="e2"))

    assert [r["contact_id"] for r in rows(container)] == [str(contact_id_for("ann@example.com"))]


def test_a_renormalized_delivery_overwrites_its_rows_and_drops_those_no_longer_linked(container: Container) -> None:
    delivery = deliver(container, event("ann@example.com", esp_id="e1"), hashed("bob@example.com"))
    fixed = [event("ann@example.com", EmailEventType.CLICKED, "e1", tidings_campaign_id="c9"), hashed("bob")]

    assert container.intake.renormalize(delivery, fixed, [])
    container.runner.catch_up_all()

    assert [(r["type"], r["campaign_id"]) for r in rows(container)] == [("clicked", "c9")]


def test_an_event_a_renormalization_drops_loses_its_row_unless_another_delivery_holds_it(
    container: Container,
) -> None:
    first = deliver(container, event("ann@example.com", esp_id="e1"), event("bob@example.com", esp_id="e2"))
    deliver(container, event("bob@example.com", esp_id="e2"))  # a re-delivery of e2: stored once, first copy
    third = deliver(container, event("cy@example.com", esp_id="e3"), event("dee@example.com", esp_id="e5"))

    container.intake.renormalize(first, [event("ann@example.com", esp_id="e1")], [])
    container.intake.renormalize(third, [event("cy@example.com", esp_id="e3")], [])
    container.runner.catch_up_all()

    # e2's stored copy was the first delivery's, so it goes although the re-delivery still holds it: the
    # same as a rebuild, which replays the same facts in the same order.
    assert sorted(r["contact_id"] for r in rows(container)) == sorted(
        str(contact_id_for(a)) for a in ("ann@example.com", "cy@example.com")
    )
    incremental = rows(container)
    container.runner.rebuild("email_events")
    container.runner.rebuild(TABLE)
    assert rows(container) == incremental
    stored = container.db.query("SELECT recipient FROM email_events ORDER BY recipient")
    assert [r["recipient"] for r in stored] == ["ann@example.com", "cy@example.com"]


def test_a_rebuild_arrives_at_the_same_rows(container: Container) -> None:
    delivery = deliver(container, event("ann@example.com"), event("cy@example.com", EmailEventType.BOUNCED, "e3"))
    container.intake.renormalize(delivery, [event("ann@example.com", EmailEventType.DELIVERED)], [])
    deliver(container, event("dee@example.com", esp_id="e4"))
    incremental = rows(container)

    container.runner.rebuild(TABLE)

    assert rows(container) == incremental
    assert len(incremental) == 2  # cy's bounce is gone: the fixed adapter no longer finds it
