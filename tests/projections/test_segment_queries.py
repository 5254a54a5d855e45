"""The segment queries over read models written by the real commands: contacts, tagging and webhook intake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.contacts import ContactInput
from application.intake import Delivery
from domain.email_address import contact_id_for
from domain.email_event import EmailEventType, NormalizedEvent
from interfaces.bootstrap import Container
from projections import segment_engine

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CONNECTION = UUID("5d1c3d0e-8a9b-4c7d-9e0f-1a2b3c4d5e6f")
PEOPLE: dict[str, dict[str, Any]] = {
    "ann@example.com": {"age": 34, "plan": "gold", "renews": "2027-01-15"},
    "bob@example.org": {"age": 19, "plan": "silver"},
    "cy@example.com": {"age": 52, "vip": True},
    "dee@example.net": {},
    "eve@example.com": {"age": 41.5, "plan": "gold"},
}
TAGS = {"ann@example.com": ["interests/sports/football"], "bob@example.org": ["interests/sports"],
        "cy@example.com": ["interests/music"], "eve@example.com": ["plans/annual"]}  # fmt: skip
# (recipient, type, days before NOW, campaign)
ACTIVITY = [
    ("ann@example.com", EmailEventType.OPENED, 10, "c-1"),
    ("ann@example.com", EmailEventType.CLICKED, 10, "c-1"),
    ("bob@example.org", EmailEventType.OPENED, 120, "c-1"),
    ("cy@example.com", EmailEventType.OPENED, 5, "c-2"),
    ("cy@example.com", EmailEventType.OPENED, 6, "c-2"),
    ("cy@example.com", EmailEventType.OPENED, 7, "c-3"),
    ("eve@example.com", EmailEventType.BOUNCED, 1, None),
]


@pytest.fixture
def populated(container: Container) -> Container:
    for email, attributes in PEOPLE.items():
        container.contacts.upsert(ContactInput(email, attributes, timezone="Europe/Paris" if "ann" in email else None))
    for email, paths in TAGS.items():
        container.tags.tag(contact_id_for(email), add=paths)
    events = [
        NormalizedEvent(kind, kind.value, email, NOW - timedelta(days=days), provider_event_id=f"e{i}",
                        metadata={"tidings_campaign_id": campaign} if campaign else {}).keyed()
        for i, (email, kind, days, campaign) in enumerate(ACTIVITY)
    ]  # fmt: skip
    container.intake.record([Delivery(uuid4(), CONNECTION, "test", {}, "{}", "test", None, events, [])])
    container.runner.catch_up_all()
    return container


def emails(c: Container, definition: Any) -> set[str]:
    return {m.email for m in segment_engine.members(c.db, definition, NOW, limit=1000).members}


CASES = [
    ({"tag": "interests/sports"}, {"ann@example.com", "bob@example.org"}),
    ({"tag": "interests/sports", "exact": True}, {"bob@example.org"}),
    ({"tag": "interests"}, {"ann@example.com", "bob@example.org", "cy@example.com"}),
    ({"not": {"event": "opened", "within_days": 90}}, {"bob@example.org", "dee@example.net", "eve@example.com"}),
    ({"event": "opened", "min_count": 2}, {"cy@example.com"}),
    ({"event": "opened", "campaign": "c-2", "max_count": 1}, set()),
    (
        {"event": "bounced", "min_count": 0, "max_count": 0},
        {"ann@example.com", "bob@example.org", "cy@example.com", "dee@example.net"},
    ),
    ({"attribute": "age", "op": "between", "value": [30, 45]}, {"ann@example.com", "eve@example.com"}),
    ({"attribute": "plan", "op": "neq", "value": "gold"}, {"bob@example.org"}),
    (
        {"not": {"attribute": "plan", "op": "eq", "value": "gold"}},
        {"bob@example.org", "cy@example.com", "dee@example.net"},
    ),
    ({"attribute": "renews", "op": "gt", "value": "2027-01-01T00:00:00+01:00"}, {"ann@example.com"}),
    ({"attribute": "vip", "op": "eq", "value": True}, {"cy@example.com"}),
    (
        {"attribute": "email_domain", "op": "in", "value": ["EXAMPLE.org", "example.net"]},
        {"bob@example.org", "dee@example.net"},
    ),
    ({"attribute": "timezone", "op": "exists"}, {"ann@example.com"}),
    ({"attribute": "created_at", "op": "lt", "value": "2000-01-01"}, set()),
    (
        {
            "and": [
                {"tag": "interests"},
                {"attribute": "age", "op": "gte", "value": 30},
                {"or": [{"not": {"event": "opened", "within_days": 90}}, {"event": "clicked", "campaign": "c-1"}]},
            ]
        },
        {"ann@example.com"},
    ),
]


@pytest.mark.parametrize(("definition", "expected"), CASES, ids=[repr(d)[:60] for d, _ in CASES])
def test_selects_the_contacts_the_definition_describes(
    populated: Container, definition: Any, expected: set[str]
) -> None:
    assert emails(populated, definition) == expected
    assert segment_engine.count(populated.db, definition, NOW) == len(expected)


def test_members_come_in_id_order_in_keyset_pages(populated: Container) -> None:
    everyone = {"not": {"tag": "nowhere"}}
    pages, cursor = [], None
    while True:
        page = segment_engine.members(populated.db, everyone, NOW, cursor, limit=2)
        pages.append(page.members)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    ids = [m.id for page in pages for m in page]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert ids == sorted(ids, key=str)
    assert {m.email for page in pages for m in page} == set(PEOPLE)


def test_members_carry_email_and_attributes(populated: Container) -> None:
    (ann,) = segment_engine.members(
        populated.db, {"attribute": "email", "op": "eq", "value": "Ann@Example.com"}, NOW
    ).members

    assert ann.id == contact_id_for("ann@example.com")
    assert ann.attributes == PEOPLE["ann@example.com"]
    assert ann.timezone == "Europe/Paris"


def test_preview_counts_and_samples_the_first_members(populated: Container) -> None:
    preview = segment_engine.preview(populated.db, {"tag": "interests"}, NOW, sample=2)

    everyone = segment_engine.members(populated.db, {"tag": "interests"}, NOW).members
    assert preview.count == 3
    assert preview.sample == everyone[:2]


def test_members_among_evaluates_only_the_given_contacts(populated: Container) -> None:
    asked = [contact_id_for("ann@example.com"), contact_id_for("cy@example.com"), contact_id_for("no@example.com")]

    found = segment_engine.members_among(populated.db, {"event": "opened", "within_days": 30}, NOW, asked)

    assert found == {contact_id_for("ann@example.com"), contact_id_for("cy@example.com")}


def test_the_same_definition_moves_with_now(populated: Container) -> None:
    opened_lately = {"event": "opened", "within_days": 90}

    # 85 days on, ann's opening is 95 days old and cy's latest exactly 90 (the window includes its start).
    later = segment_engine.count(populated.db, opened_lately, NOW + timedelta(days=85))

    assert segment_engine.count(populated.db, opened_lately, NOW) == 2
    assert later == 1
