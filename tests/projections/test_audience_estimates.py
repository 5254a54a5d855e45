"""Audience estimates: unique delivered/opened/clicked rates per past message of this audience within the window,
or the stated defaults when that history is thin; over real email events, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from application.contacts import ContactInput
from application.intake import Delivery
from domain.campaign_settings import CampaignSettings
from domain.email_event import EmailEventType, NormalizedEvent
from interfaces.bootstrap import Container
from projections.audience_estimates import EstimatePolicy, Rates, estimates

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CONNECTION = UUID("0b6f6a4e-3c39-4b7e-9d7a-8a3c7d1e2f04")
DEFAULTS = Rates(0.9, 0.3, 0.05)
E = EmailEventType


def sent(c: Container, email: str, *events: tuple[EmailEventType, str | None, int]) -> None:
    normalized = [
        NormalizedEvent(kind, kind.value, email, NOW - timedelta(days=days), provider_event_id=uuid4().hex,
                        metadata={"tidings_campaign_id": campaign} if campaign else {}).keyed()
        for kind, campaign, days in events
    ]  # fmt: skip
    c.intake.record([Delivery(uuid4(), CONNECTION, "test", {}, "{}", "test", None, normalized, [])])


@pytest.fixture
def campaign(container: Container) -> CampaignSettings:
    """Two contacts in the audience with some history; one opted-out contact whose history must not count."""
    c = container
    for name in ("ann", "bob", "cy"):
        contact_id = c.contacts.upsert(ContactInput(f"{name}@example.com"))[0].id
        c.tags.tag(contact_id, add=["a"])
        if name == "cy":
            c.preferences.opt_out(contact_id, "contact")
    # ann: c1 delivered, opened twice, clicked; c2 delivered; an event without a campaign; c0 too old.
    sent(c, "ann@example.com", (E.DELIVERED, "c1", 3), (E.OPENED, "c1", 2), (E.OPENED, "c1", 1),
         (E.CLICKED, "c1", 1), (E.DELIVERED, "c2", 10), (E.OPENED, None, 1), (E.DELIVERED, "c0", 100))  # fmt: skip
    # bob: c1 delivered; c3 bounced (a message that was not delivered).
    sent(c, "bob@example.com", (E.DELIVERED, "c1", 3), (E.BOUNCED, "c3", 5))
    sent(c, "cy@example.com", *((E.BOUNCED, f"x{i}", 2) for i in range(5)))
    segment = c.segments.define("A", "", {"tag": "a"})
    c.runner.catch_up_all()
    return CampaignSettings(include_segments=(segment.id,))


def test_enough_history_gives_this_audiences_own_unique_rates(container: Container, campaign: CampaignSettings) -> None:
    result = estimates(container.db, campaign, NOW, 2, EstimatePolicy(90, 4, DEFAULTS))

    assert (result.basis, result.messages, result.window_days) == ("history", 4, 90)
    assert result.rates == Rates(0.75, 0.25, 0.25)
    assert (result.delivered, result.opens, result.clicks) == (round(2 * 0.75), round(2 * 0.25), round(2 * 0.25))


def test_thin_history_uses_the_stated_defaults(container: Container, campaign: CampaignSettings) -> None:
    result = estimates(container.db, campaign, NOW, 1000, EstimatePolicy(90, 5, DEFAULTS))

    assert (result.basis, result.messages) == ("defaults", 4)
    assert result.rates == DEFAULTS
    assert (result.delivered, result.opens, result.clicks) == (900, 300, 50)


def test_the_window_bounds_the_history(container: Container, campaign: CampaignSettings) -> None:
    # Within 4 days only c1 (ann, bob) remain: both delivered, one opened and clicked.
    result = estimates(container.db, campaign, NOW, 10, EstimatePolicy(4, 1, DEFAULTS))

    assert (result.basis, result.messages) == ("history", 2)
    assert result.rates == Rates(1.0, 0.5, 0.5)
    assert (result.delivered, result.opens, result.clicks) == (10, 5, 5)


def test_an_empty_audience_has_no_history(container: Container) -> None:
    result = estimates(container.db, CampaignSettings(), NOW, 0, EstimatePolicy(90, 1, DEFAULTS))

    assert (result.basis, result.messages, result.delivered) == ("defaults", 0, 0)
