"""Policies applied as a batch (one transaction) decide exactly as one command at a time, on SQLite and
PostgreSQL; a batch that clashes with a concurrent change saves nothing."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.contacts import ContactInput
from application.email_policies import EmailPolicies, Followed, SoftBounceRule
from application.policy_batch import PolicyBatch
from domain.contact_preferences import preferences_id
from domain.email_address import contact_id_for
from domain.email_event import BounceClass, EmailEventType, NormalizedEvent
from domain.errors import Conflict
from domain.suppression import suppression_id
from interfaces.bootstrap import Container

T, B = EmailEventType, BounceClass
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
CONNECTION = UUID("4a7d2f10-6c1e-4f9a-9b3d-2e8f6a1c0d55")
PEOPLE = ("ann", "bob", "cid")  # ann and bob are contacts, cid is only an address

kinds = st.sampled_from(
    [
        (T.BOUNCED, B.HARD),
        (T.BOUNCED, B.SOFT),
        (T.COMPLAINED, None),
        (T.UNSUBSCRIBED, None),
        (T.RESUBSCRIBED, None),
        (T.SUPPRESSION_ADDED, None),
        (T.SUPPRESSION_REMOVED, None),
        (T.DELIVERED, None),
    ]
)
steps = st.lists(
    st.tuples(
        kinds,
        st.sampled_from(PEOPLE),
        st.integers(0, 120),  # minutes after T0
        st.sampled_from([None, "news"]),
        st.integers(0, 5),  # event ids repeat: the same event may come twice
        st.integers(0, 4),  # the soft-bounce count the reactor would have read
    ),
    max_size=14,
)


def followed(prefix: str, step: tuple) -> Followed:
    (kind, bounce), who, minutes, category, esp_id, soft = step
    meta = {"tidings_category": category} if category else {}
    event = NormalizedEvent(
        kind, f"test.{kind.value}", f"{prefix}-{who}@example.com", T0 + timedelta(minutes=minutes),
        provider_event_id=f"e{esp_id}-{who}", bounce_class=bounce, metadata=meta,
    ).keyed()  # fmt: skip
    return Followed(CONNECTION, event, f"{prefix}:{event.key}", soft)


def outcome(c: Container, prefix: str) -> list[tuple[object, ...]]:
    """Per person: the suppression's and the preferences' event types and final state."""
    seen: list[tuple[object, ...]] = []
    for who in PEOPLE:
        address = f"{prefix}-{who}@example.com"
        record = c.suppressions.find(address)
        prefs = list(c.preferences.events.get(preferences_id(contact_id_for(address))))
        state = c.preferences.get(prefs[0].contact_id) if prefs else None
        seen.append(
            (
                who,
                [type(e).__name__ for e in c.suppressions.events.get(suppression_id(address))],
                None if record is None else (record.active, record.reason),
                [type(e).__name__ for e in prefs],
                None if state is None else (state.opted_out, state.categories),
            )
        )
    return seen


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_a_batch_decides_as_the_same_commands_one_at_a_time(container: Container, steps: list[tuple]) -> None:
    run = uuid4().hex[:8]
    one, batched = f"one{run}", f"all{run}"
    policies = EmailPolicies(container.preferences, container.suppressions, SoftBounceRule(limit=3))
    with suppress(Conflict):  # defined by an earlier example on this store
        container.preferences.define_category("news", "News")
    for prefix in (one, batched):
        for who in PEOPLE[:2]:
            container.contacts.upsert(ContactInput(f"{prefix}-{who}@example.com"))
    categories = {"news": False}

    for step in steps:
        item = followed(one, step)
        policies.follow(item.connection_id, item.event, item.cause, soft_bounces=item.soft_bounces,
                                  categories=categories)  # fmt: skip
    policies.follow_all([followed(batched, step) for step in steps], categories)

    assert outcome(container, batched) == outcome(container, one)


def test_a_batch_that_clashes_with_a_concurrent_change_saves_nothing(container: Container) -> None:
    container.suppressions.suppress("ann@example.com", "manual", "admin")
    head = container.store.head()
    batch = PolicyBatch(container.preferences, container.suppressions)
    batch.suppression_to_change("bob@example.com", T0).suppress("hard_bounce", "esp", "evt-1", T0)
    ann = batch.suppression("ann@example.com")
    assert ann is not None and ann.lift("esp", "evt-2", T0) is True

    container.suppressions.lift("ann@example.com", "admin")  # saved between the batch's read and its commit
    with pytest.raises(Conflict):
        batch.commit()

    assert container.store.head() == head + 1  # the admin's lift only
    assert container.suppressions.find("bob@example.com") is None
