"""Membership driven by email events, and behaviour windows that move with the clock, not with events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from application.contacts import ContactInput
from application.intake import Delivery
from domain.email_event import EmailEventType, NormalizedEvent
from interfaces.bootstrap import Container
from projections.segment_memberships import TABLE, member_count, segments_of

OPENED_RECENTLY = {"event": "opened", "within_days": 90}


def opened(container: Container, recipient: str, at: datetime) -> None:
    event = NormalizedEvent(
        type=EmailEventType.OPENED, provider_event_type="open", recipient=recipient, occurred_at=at,
        provider_event_id=f"ev-{uuid4()}",
    ).keyed()  # fmt: skip
    container.intake.record([Delivery(uuid4(), uuid4(), "sendgrid", {}, "[]", "basic", None, [event], [])])


def test_an_email_event_brings_its_contact_in_and_time_takes_them_out(container: Container) -> None:
    now = datetime.now(UTC)
    ann, _ = container.contacts.upsert(ContactInput(email="ann@example.com"))
    container.contacts.upsert(ContactInput(email="bob@example.com"))
    recent = container.segments.define("Recent openers", "", OPENED_RECENTLY)
    dormant = container.segments.define("Dormant", "", {"not": OPENED_RECENTLY})
    container.runner.catch_up_all()
    assert segments_of(container.db, str(ann.id)) == [str(dormant.id)]

    opened(container, "Ann@Example.com", now - timedelta(days=80))
    container.runner.catch_up_all()

    assert segments_of(container.db, str(ann.id)) == [str(recent.id)]
    assert member_count(container.db, str(dormant.id))[0] == 1  # bob, who never opened anything

    memberships = container.runner.projections[TABLE]
    assert memberships.refresh(container.db, now=now + timedelta(days=11)) == 2

    assert segments_of(container.db, str(ann.id)) == [str(dormant.id)]
    assert member_count(container.db, str(recent.id))[0] == 0
    assert member_count(container.db, str(dormant.id))[0] == 2


def test_refresh_skips_segments_that_do_not_depend_on_time(container: Container) -> None:
    container.segments.define("Pros", "", {"attribute": "plan", "op": "eq", "value": "pro"})
    container.segments.define("Recent openers", "", OPENED_RECENTLY)
    container.runner.catch_up_all()

    assert container.runner.projections[TABLE].refresh(container.db) == 1
