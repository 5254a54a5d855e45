"""Eligibility: every reason, in its order, over read models written by the real commands and real email
events, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from application.contacts import ContactInput
from application.intake import Delivery
from domain.email_event import EmailEventType, NormalizedEvent
from domain.preference_category import UnknownCategory
from interfaces.bootstrap import Container
from projections.eligibility import Eligible, Ineligible, IneligibleReason, eligibility

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CONNECTION = UUID("0b6f6a4e-3c39-4b7e-9d7a-8a3c7d1e2f01")
R = IneligibleReason


@pytest.fixture
def ann(container: Container) -> UUID:
    container.preferences.define_category("news", "News", default_subscribed=True)
    container.preferences.define_category("offers", "Offers", default_subscribed=False)
    return container.contacts.upsert(ContactInput("ann@example.com"))[0].id


def check(c: Container, contact_id: UUID, category: str | None = "news") -> Eligible | Ineligible:
    c.runner.catch_up_all()
    return eligibility(c.db, contact_id, category, NOW)


def sent(c: Container, *messages: tuple[EmailEventType, str | None, datetime]) -> None:
    events = [
        NormalizedEvent(kind, kind.value, "ann@example.com", at, provider_event_id=uuid4().hex,
                        metadata={"tidings_campaign_id": campaign} if campaign else {}).keyed()
        for kind, campaign, at in messages
    ]  # fmt: skip
    c.intake.record([Delivery(uuid4(), CONNECTION, "test", {}, "{}", "test", None, events, [])])


def test_a_contact_with_default_preferences_is_eligible_for_a_default_on_category(container: Container,
                                                                                  ann: UUID) -> None:  # fmt: skip
    assert check(container, ann) == Eligible()
    assert check(container, ann, None) == Eligible()


def test_an_unknown_contact_is_no_such_contact(container: Container, ann: UUID) -> None:
    assert check(container, uuid4()) == Ineligible(R.NO_SUCH_CONTACT)


def test_a_suppressed_address_comes_before_everything_else(container: Container, ann: UUID) -> None:
    container.preferences.opt_out(ann, "contact")
    container.suppressions.suppress("ann@example.com", "complaint", "esp", "evt-1")

    assert check(container, ann) == Ineligible(R.SUPPRESSED, {"suppression_reason": "complaint"})


def test_an_address_suppressed_before_it_was_a_contact_is_suppressed(container: Container) -> None:
    container.suppressions.suppress("bob@example.com", "hard_bounce", "esp", "evt-1")
    bob = container.contacts.upsert(ContactInput("bob@example.com"))[0].id

    assert check(container, bob, None) == Ineligible(R.SUPPRESSED, {"suppression_reason": "hard_bounce"})


def test_a_global_opt_out_comes_before_category_choices(container: Container, ann: UUID) -> None:
    container.preferences.change(ann, "contact", opted_out=True, categories={"news": False})

    assert check(container, ann) == Ineligible(R.OPTED_OUT)
    assert check(container, ann, None) == Ineligible(R.OPTED_OUT)


def test_a_category_follows_the_choice_else_its_default(container: Container, ann: UUID) -> None:
    assert check(container, ann, "offers") == Ineligible(R.UNSUBSCRIBED_FROM_CATEGORY, {"category": "offers"})

    container.preferences.choose(ann, {"offers": True, "news": False}, "contact")

    assert check(container, ann, "offers") == Eligible()
    assert check(container, ann, "news") == Ineligible(R.UNSUBSCRIBED_FROM_CATEGORY, {"category": "news"})


def test_a_pause_holds_until_its_end(container: Container, ann: UUID) -> None:
    container.preferences.pause(ann, NOW + timedelta(days=1), "contact", NOW - timedelta(days=1))
    container.runner.catch_up_all()

    assert check(container, ann) == Ineligible(R.PAUSED, {"paused_until": "2026-03-11T12:00:00.000000+00:00"})
    assert eligibility(container.db, ann, "news", NOW + timedelta(days=1, seconds=1)) == Eligible()


def test_the_frequency_cap_counts_messages_sent_within_the_window(container: Container, ann: UUID) -> None:
    container.preferences.set_frequency(ann, {"max": 2, "per": "week"}, "contact")
    # One message yields accepted + delivered (one count); one more campaign that week; one too old to count.
    sent(container, (EmailEventType.ACCEPTED, "c1", NOW - timedelta(days=2)),
         (EmailEventType.DELIVERED, "c1", NOW - timedelta(days=2, minutes=-1)),
         (EmailEventType.OPENED, "c9", NOW - timedelta(days=1)),
         (EmailEventType.DELIVERED, "c0", NOW - timedelta(days=8)))  # fmt: skip
    assert check(container, ann) == Eligible()

    sent(container, (EmailEventType.DELIVERED, "c2", NOW - timedelta(hours=1)))

    assert check(container, ann) == Ineligible(R.FREQUENCY_CAP, {"sent": 2, "max": 2, "per": "week"})
    assert eligibility(container.db, ann, "news", NOW + timedelta(days=6)) == Eligible()


def test_a_digest_preset_caps_at_one_message_per_period(container: Container, ann: UUID) -> None:
    container.preferences.set_frequency(ann, {"digest": "daily"}, "contact")
    sent(container, (EmailEventType.DELIVERED, None, NOW - timedelta(hours=3)))

    assert check(container, ann) == Ineligible(R.FREQUENCY_CAP, {"sent": 1, "max": 1, "per": "day"})


def test_an_unknown_category_is_refused(container: Container, ann: UUID) -> None:
    with pytest.raises(UnknownCategory):
        check(container, ann, "nope")
