"""The policies' decisions (ADR 0004 §5), given one normalized event: no I/O, no store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.email_policies import (
    CATEGORY_KEY,
    POLICY_TYPES,
    LiftEspSuppression,
    OptOut,
    Resubscribe,
    SoftBounceRule,
    Suppress,
    busiest_window,
    decide,
    is_soft_bounce,
    reason_for,
)
from domain.email_address import contact_id_for
from domain.email_event import BounceClass, EmailEventType, NormalizedEvent
from domain.suppression import Reason

T, B = EmailEventType, BounceClass
AT = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
ANN = contact_id_for("ann@example.com")
CAUSE = "5c3a4b8e-0000-5000-8000-000000000001"
CATEGORIES = {"news": False, "old": True}  # key -> archived


def ev(
    kind: EmailEventType, bounce: BounceClass | None = None, to: str = " Ann@Example.COM", **meta: str
) -> NormalizedEvent:
    return NormalizedEvent(kind, f"esp.{kind.value}", to, AT, bounce_class=bounce, metadata=meta)


def test_a_hard_bounce_suppresses_the_normalized_address() -> None:
    assert decide(ev(T.BOUNCED, B.HARD), CAUSE) == [Suppress("ann@example.com", Reason.HARD_BOUNCE, CAUSE, AT)]


@pytest.mark.parametrize(("count", "suppressed"), [(1, False), (2, False), (3, True), (7, True)])
def test_soft_bounces_suppress_from_the_limit_on(count: int, suppressed: bool) -> None:
    commands = decide(ev(T.BOUNCED, B.SOFT), CAUSE, soft_bounces=count, rule=SoftBounceRule(3, timedelta(days=7)))

    assert commands == ([Suppress("ann@example.com", Reason.SOFT_BOUNCES, CAUSE, AT)] if suppressed else [])


def test_an_undetermined_bounce_changes_nothing() -> None:
    assert decide(ev(T.BOUNCED, B.UNDETERMINED), CAUSE, soft_bounces=99) == []


def test_a_complaint_suppresses_and_opts_the_contact_out_globally_at_the_event_time() -> None:
    assert decide(ev(T.COMPLAINED), CAUSE) == [
        Suppress("ann@example.com", Reason.COMPLAINT, CAUSE, AT),
        OptOut(ANN, None, CAUSE, AT),
    ]


@pytest.mark.parametrize(
    ("meta", "category"),
    [({}, None), ({CATEGORY_KEY: "news"}, "news"), ({CATEGORY_KEY: "old"}, "old"), ({CATEGORY_KEY: "nope"}, None)],
    ids=["none", "known", "archived", "unknown"],
)
def test_an_unsubscribe_leaves_the_known_category_of_the_message_else_everything(
    meta: dict[str, str], category: str | None
) -> None:
    assert decide(ev(T.UNSUBSCRIBED, **meta), CAUSE, categories=CATEGORIES) == [OptOut(ANN, category, CAUSE, AT)]


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({}, [Resubscribe(ANN, None, CAUSE, AT)]),
        ({CATEGORY_KEY: "news"}, [Resubscribe(ANN, "news", CAUSE, AT)]),
        ({CATEGORY_KEY: "nope"}, [Resubscribe(ANN, None, CAUSE, AT)]),
        ({CATEGORY_KEY: "old"}, []),
    ],
    ids=["none", "known", "unknown", "archived"],
)
def test_a_resubscribe_mirrors_the_unsubscribe_but_never_opts_in_to_an_archived_category(
    meta: dict[str, str], expected: list[object]
) -> None:
    assert decide(ev(T.RESUBSCRIBED, **meta), CAUSE, categories=CATEGORIES) == expected


def test_the_esp_suppression_list_adds_and_lifts() -> None:
    assert decide(ev(T.SUPPRESSION_ADDED), CAUSE) == [Suppress("ann@example.com", Reason.ESP, CAUSE, AT)]
    assert decide(ev(T.SUPPRESSION_REMOVED), CAUSE) == [LiftEspSuppression("ann@example.com", CAUSE, AT)]


@pytest.mark.parametrize("kind", sorted(POLICY_TYPES))
def test_events_for_an_invalid_address_are_ignored(kind: EmailEventType) -> None:
    assert decide(ev(kind, B.HARD, to="not-an-address"), CAUSE, soft_bounces=9) == []


@pytest.mark.parametrize("kind", sorted(set(T) - POLICY_TYPES))
def test_other_events_change_nothing(kind: EmailEventType) -> None:
    assert decide(ev(kind), CAUSE, soft_bounces=9) == []


def test_only_soft_bounces_need_a_count() -> None:
    assert is_soft_bounce(ev(T.BOUNCED, B.SOFT))
    assert not is_soft_bounce(ev(T.BOUNCED, B.HARD))
    assert not is_soft_bounce(ev(T.DEFERRED))


def test_the_reason_names_the_esp_event_type_and_the_event_id() -> None:
    reason = reason_for(ev(T.BOUNCED, B.HARD), CAUSE)

    assert reason == f"ESP-reported bounced (hard): esp.bounced event {CAUSE}"


@pytest.mark.parametrize(("limit", "days"), [(0, 7), (3, 0), (-1, 1)])
def test_the_soft_bounce_rule_needs_positive_settings(limit: int, days: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        SoftBounceRule(limit, timedelta(days=days))


@given(
    kind=st.sampled_from(list(T)),
    bounce=st.none() | st.sampled_from(list(B)),
    to=st.text(max_size=30) | st.emails(),
    meta=st.dictionaries(st.sampled_from([CATEGORY_KEY, "other"]), st.text(max_size=8), max_size=2),
    count=st.integers(0, 10),
)
def test_any_event_gets_commands_for_its_own_normalized_address_only(
    kind: EmailEventType, bounce: BounceClass | None, to: str, meta: dict[str, str], count: int
) -> None:
    commands = decide(ev(kind, bounce, to, **meta), CAUSE, soft_bounces=count, categories=CATEGORIES)

    assert len(commands) <= 2
    for command in commands:
        assert command.cause == CAUSE and command.at == AT
        if isinstance(command, Suppress | LiftEspSuppression):
            assert command.address == command.address.strip().lower()
        else:
            assert command.category in (None, "news", "old")


DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("offsets", "at", "expected"),
    [((0,), 0, 1), ((0, 1, 2), 2, 3), ((0, 1, 2), 0, 3), ((0, 4, 8), 8, 2), ((0, 4, 8), 4, 2), ((0, 7), 7, 1)],
    ids=["alone", "ending-here", "starting-here", "spread-out", "middle", "window-is-half-open"],
)
def test_the_busiest_window_holding_a_bounce_counts_later_ones_already_recorded(
    offsets: tuple[int, ...], at: int, expected: int
) -> None:
    times = [AT + d * DAY for d in offsets]

    assert busiest_window(times, AT + at * DAY, 7 * DAY) == expected


@given(st.lists(st.integers(0, 30), min_size=1, max_size=8), st.integers(1, 6), st.integers(1, 10))
def test_whether_a_run_is_found_does_not_depend_on_the_order_bounces_arrive_in(
    days: list[int], limit: int, window_days: int
) -> None:
    times, window = [AT + d * DAY for d in days], window_days * DAY

    def found(order: list[datetime]) -> bool:
        # Each bounce is decided when it arrives, seeing the ones that arrived before it.
        return any(busiest_window(order[: i + 1], t, window) >= limit for i, t in enumerate(order))

    any_span = any(sum(1 for t in times if end - window < t <= end) >= limit for end in times)
    assert found(times) == found(list(reversed(times))) == found(sorted(times)) == any_span
