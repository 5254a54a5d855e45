"""The audience property: for random contacts, tags, opt-outs, category choices, pauses, frequency caps with sent
messages, and suppressions (all written through the real applications), the SQL audience equals a brute-force
Python evaluation of the same rules in the same order, every rule's count agrees, each included contact the SQL
keeps is one ``eligibility`` lets through, and paging (any page size, any filter) or streaming visits the audience
exactly once in id order; on SQLite and PostgreSQL, from maintained memberships and from compiled definitions."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.contacts import ContactInput
from application.intake import Delivery
from domain.campaign_settings import CampaignSettings
from domain.email_event import EmailEventType, NormalizedEvent
from interfaces.bootstrap import Container
from projections.audience import RULES, audience, member_ids, recipients
from projections.eligibility import Eligible, Ineligible, eligibility

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CONNECTION = UUID("0b6f6a4e-3c39-4b7e-9d7a-8a3c7d1e2f03")
DEFAULTS = {"news": True, "offers": False}
WINDOW_HOURS = {"day": 24, "week": 24 * 7, "month": 24 * 30}
FREQUENCIES = [None, {"max": 1, "per": "week"}, {"max": 2, "per": "day"}, {"digest": "weekly"}]
RUNS = itertools.count()


@dataclass
class Person:
    """One drawn contact: its tags (of a, b, c) and everything the rules read."""

    local: str
    tags: frozenset[str]
    suppressed: bool
    opted_out: bool
    choices: dict[str, bool]
    paused_hours: int | None  # paused until NOW plus this many hours
    frequency: dict[str, Any] | None
    sent: list[tuple[str | None, int]]  # (campaign, hours before NOW)


people = st.builds(
    Person,
    local=st.sampled_from(["ann", "bob", "a_b", "a%b", "Cy"]),
    tags=st.frozensets(st.sampled_from("abc")),
    suppressed=st.integers(0, 4).map(lambda n: n == 0),
    opted_out=st.integers(0, 4).map(lambda n: n == 0),
    choices=st.dictionaries(st.sampled_from(sorted(DEFAULTS)), st.booleans(), max_size=2),
    paused_hours=st.sampled_from([None, None, 24, -1]),
    frequency=st.sampled_from(FREQUENCIES),
    sent=st.lists(st.tuples(st.sampled_from([None, "c1", "c2"]), st.sampled_from([1, 11, 13, 30, 100, 170, 200])),
                  max_size=3),
)  # fmt: skip


def expected_reason(p: Person, category: str | None) -> str | None:
    """The first rule that removes the person, or None when they are in the audience (needs ``a`` or ``c``)."""
    if "b" in p.tags:
        return RULES[0]
    if p.suppressed:
        return "suppressed"
    if p.opted_out:
        return "opted_out"
    if category is not None and not p.choices.get(category, DEFAULTS[category]):
        return "unsubscribed_from_category"
    if p.paused_hours is not None and p.paused_hours > 0:
        return "paused"
    if p.frequency is not None:
        per = p.frequency.get("per") or {"weekly": "week"}[p.frequency["digest"]]
        recent = {(c or "", (NOW - timedelta(hours=h)).date()) for c, h in p.sent if h < WINDOW_HOURS[per]}
        if len(recent) >= p.frequency.get("max", 1):
            return "frequency_cap"
    return None


def write(c: Container, run: int, i: int, p: Person) -> tuple[UUID, str]:
    email = f"{p.local}{i}@r{run}.example"
    contact_id = c.contacts.upsert(ContactInput(email))[0].id
    if p.tags:
        c.tags.tag(contact_id, add=[f"r{run}/{t}" for t in sorted(p.tags)])
    paused = NOW + timedelta(hours=p.paused_hours) if p.paused_hours is not None else None
    frequency = p.frequency
    c.preferences.change(contact_id, "contact", opted_out=p.opted_out or None, categories=p.choices or None,
                         frequency=frequency, paused_until=paused, effective_at=NOW - timedelta(days=20))  # fmt: skip
    if p.suppressed:
        c.suppressions.suppress(email, "manual", "admin", None)
    if p.sent:
        events = [
            NormalizedEvent(EmailEventType.DELIVERED, "delivered", email, NOW - timedelta(hours=h),
                            provider_event_id=uuid4().hex, metadata={"tidings_campaign_id": cmp} if cmp else {}).keyed()
            for cmp, h in p.sent
        ]  # fmt: skip
        c.intake.record([Delivery(uuid4(), CONNECTION, "test", {}, "{}", "test", None, events, [])])
    return contact_id, email.lower()


@pytest.fixture
def categories(container: Container) -> Container:
    for key, default in DEFAULTS.items():
        container.preferences.define_category(key, key.title(), default_subscribed=default)
    return container


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    crowd=st.lists(people, min_size=1, max_size=6),
    category=st.sampled_from([None, "news", "offers"]),
    page_size=st.integers(1, 4),
    chunk=st.integers(1, 3),
    q=st.sampled_from([None, "_", "%", "A", "b1", "zz"]),
)
def test_the_audience_is_the_rules_applied_in_order(
    categories: Container, crowd: list[Person], category: str | None, page_size: int, chunk: int, q: str | None
) -> None:
    c, run = categories, next(RUNS)
    written = [write(c, run, i, p) for i, p in enumerate(crowd)]
    segments = [c.segments.define(f"{run}-{t}", "", {"tag": f"r{run}/{t}"}).id for t in "acb"]
    c.runner.catch_up_all()
    settings_ = CampaignSettings(category=category, include_segments=tuple(segments[:2]),
                                 exclude_segments=(segments[2],))  # fmt: skip
    included = [(cid, p) for (cid, _), p in zip(written, crowd, strict=True) if p.tags & {"a", "c"}]
    reasons = [expected_reason(p, category) for _, p in included]
    expected = sorted(str(cid) for (cid, _), r in zip(included, reasons, strict=True) if r is None)

    for use_memberships in (True, False):
        counted = audience(c.db, settings_, NOW, use_memberships=use_memberships)
        assert counted.included == len(included)
        assert [r.removed for r in counted.rules] == [reasons.count(rule) for rule in RULES]
        assert counted.count == len(expected)
    assert (
        sorted(
            str(cid)
            for cid, p in included
            if "b" not in p.tags and isinstance(eligibility(c.db, cid, category, NOW), Eligible)
        )
        == expected
    )
    assert all(isinstance(eligibility(c.db, cid, category, NOW), Ineligible)
               for (cid, _), r in zip(included, reasons, strict=True) if r not in (None, RULES[0]))  # fmt: skip
    assert [str(i) for part in member_ids(c.db, settings_, NOW, chunk=chunk) for i in part] == expected

    emails = dict(written)
    wanted = [i for i in expected if q is None or q.lower() in emails[UUID(i)]]
    assert paged(c, settings_, page_size, q) == wanted
    for segment_id in segments:  # keep later examples' membership upkeep small
        c.segments.archive(segment_id)


def paged(c: Container, settings_: CampaignSettings, page_size: int, q: str | None) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = recipients(c.db, settings_, NOW, cursor=cursor, limit=page_size, q=q)
        assert len(page.items) <= page_size
        seen += [str(r.id) for r in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor
