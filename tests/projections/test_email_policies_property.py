"""Hypothesis: any sequence of policy-relevant ESP events, delivered twice in any interleaving (and reacted to
at any points), leaves the same preferences and suppressions as delivering each once (both backends).

Each example runs two worlds in one store, told apart by the addresses' domain, so no example pays for a
fresh database: "once" delivers the sequence in order, "twice" delivers a shuffle of two copies of it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.contacts import ContactInput
from application.intake import Delivery
from domain.email_address import contact_id_for
from domain.email_event import BounceClass, EmailEventType, NormalizedEvent
from interfaces.bootstrap import Container, build
from interfaces.config import Settings
from projections.preferences import effective_preferences
from projections.suppressions import get_suppression

T, B = EmailEventType, BounceClass
T0 = datetime(2026, 6, 1, tzinfo=UTC)
CONNECTION = UUID("9e3b1c55-0f4d-4e2a-8a61-7c2d9b0e4f11")
PEOPLE = ("ann", "cy")  # cy is no contact: few people, so events meet
CONTACTS = ("ann",)
KINDS = [T.BOUNCED, T.COMPLAINED, T.UNSUBSCRIBED, T.RESUBSCRIBED, T.SUPPRESSION_ADDED, T.SUPPRESSION_REMOVED]


@dataclasses.dataclass(frozen=True)
class Spec:
    """One ESP event, before it is given an address in a world."""

    kind: EmailEventType
    person: str
    minutes: int
    bounce: BounceClass | None
    category: str | None

    def event(self, index: int, domain: str) -> NormalizedEvent:
        meta = {} if self.category is None else {"tidings_category": self.category}
        at = T0 + timedelta(minutes=self.minutes)
        address = f"{self.person}@{domain}"
        return NormalizedEvent(
            self.kind,
            self.kind.value,
            address,
            at,
            provider_event_id=f"e{index}",
            bounce_class=self.bounce,
            metadata=meta,
        ).keyed()


specs = st.builds(
    Spec,
    kind=st.sampled_from(KINDS),
    person=st.sampled_from(PEOPLE),
    # A few days, so a one-day soft-bounce window both holds and misses earlier bounces.
    minutes=st.integers(0, 3 * 24 * 60).map(lambda m: m - m % 240),
    bounce=st.sampled_from([B.HARD, B.SOFT, B.SOFT, B.UNDETERMINED]),
    category=st.sampled_from([None, "news", "old", "nope"]),
).map(lambda s: s if s.kind is T.BOUNCED else dataclasses.replace(s, bounce=None))


@pytest.fixture
def world(settings: Settings) -> Iterator[Container]:
    c = build(dataclasses.replace(settings, soft_bounce_limit=2, soft_bounce_window_days=1))
    c.preferences.define_category("news", "News")
    c.preferences.define_category("old", "Old")
    c.preferences.archive_category("old")
    settle(c)
    yield c
    c.close()


def settle(c: Container) -> None:
    while c.runner.catch_up_all():
        pass


def deliver(c: Container, events: list[NormalizedEvent], react: bool) -> None:
    c.intake.record([Delivery(uuid.uuid4(), CONNECTION, "test", {}, "{}", "test", None, events, [])])
    if react:
        settle(c)


def start(c: Container, domain: str, admin_opt_out_at: int | None) -> None:
    for person in CONTACTS:
        cid = c.contacts.upsert(ContactInput(f"{person}@{domain}"))[0].id
        if admin_opt_out_at is not None:
            c.preferences.opt_out(cid, "admin", effective_at=T0 + timedelta(minutes=admin_opt_out_at))


def state(c: Container, domain: str) -> dict[str, Any]:
    """Each person's suppression and preferences, in the store and in the read models."""
    found: dict[str, Any] = {}
    for person in PEOPLE:
        address = f"{person}@{domain}"
        suppression = c.suppressions.find(address)
        row = get_suppression(c.db, address)
        found[f"{person}.suppression"] = (suppression.active, suppression.reason) if suppression else None
        found[f"{person}.suppression_row"] = row.reason if row else None
        if person in CONTACTS:
            prefs = c.preferences.get(contact_id_for(address))
            read = effective_preferences(c.db, contact_id_for(address))
            found[f"{person}.preferences"] = (prefs.opted_out, prefs.categories)
            found[f"{person}.preferences_row"] = (read.opted_out, {k.key: k.subscribed for k in read.categories})
    return found


def shuffle_of_two_copies(n: int, picks: list[bool]) -> list[int]:
    """Interleave two copies of 0..n-1, each copy in order; ``picks`` chooses the copy to take from next."""
    order, a, b = [], 0, 0
    for take_first in picks:
        if (take_first and a < n) or b >= n:
            order.append(a)
            a += 1
        else:
            order.append(b)
            b += 1
    return order


def test_delivering_every_event_twice_in_any_interleaving_changes_nothing(world: Container) -> None:
    limit = 25 if world.settings.database.startswith("sqlite") else 12

    @settings(max_examples=limit, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data(), sequence=st.lists(specs, min_size=1, max_size=7),
           admin_opt_out_at=st.none() | st.integers(0, 3 * 24 * 60))  # fmt: skip
    def check(data: st.DataObject, sequence: list[Spec], admin_opt_out_at: int | None) -> None:
        run = uuid.uuid4().hex[:10]
        once, twice = f"once-{run}.example", f"twice-{run}.example"
        start(world, once, admin_opt_out_at)
        start(world, twice, admin_opt_out_at)
        n = len(sequence)
        picks = data.draw(st.lists(st.booleans(), min_size=2 * n, max_size=2 * n), label="picks")
        reacts = data.draw(st.lists(st.booleans(), min_size=2 * n, max_size=2 * n), label="react after")

        for i, spec in enumerate(sequence):
            deliver(world, [spec.event(i, once)], react=reacts[i])
        for step, i in enumerate(shuffle_of_two_copies(n, picks)):
            deliver(world, [sequence[i].event(i, twice)], react=reacts[step])
        settle(world)

        assert state(world, twice) == state(world, once)

    check()
