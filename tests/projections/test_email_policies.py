"""The policies reactor over the real store and runner (SQLite and PostgreSQL): each policy, the resubscribe
rule, soft-bounce windows, non-contacts, the audit trail, and repeats that change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from application.contacts import ContactInput
from application.intake import Delivery
from domain.contact_preferences import preferences_id
from domain.email_address import contact_id_for
from domain.email_event import BounceClass, EmailEventType, NormalizedEvent
from domain.suppression import suppression_id
from interfaces.bootstrap import Container, build
from interfaces.config import Settings
from projections.email_events import event_id
from projections.email_policies import NAME
from projections.preferences import effective_preferences
from projections.suppressions import get_suppression

T, B = EmailEventType, BounceClass
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
CONNECTION = UUID("4a7d2f10-6c1e-4f9a-9b3d-2e8f6a1c0d55")
ANN = "ann@example.com"


def ev(
    kind: EmailEventType,
    esp_id: str,
    to: str = ANN,
    at: datetime = T0,
    bounce: BounceClass | None = None,
    **meta: str,
) -> NormalizedEvent:
    return NormalizedEvent(
        kind, f"test.{kind.value}", to, at, provider_event_id=esp_id, bounce_class=bounce, metadata=meta
    ).keyed()


def cause(n: NormalizedEvent) -> str:
    return str(event_id(CONNECTION, n.key))


def settle(c: Container) -> None:
    # A pass lets the reactor issue commands; the next one projects what they recorded.
    while c.runner.catch_up_all():
        pass


def deliver(c: Container, *events: NormalizedEvent, request_id: str | None = None) -> UUID:
    delivery_id = uuid4()
    c.intake.record([Delivery(delivery_id, CONNECTION, "test", {}, "{}", "test", request_id, list(events), [])])
    settle(c)
    return delivery_id


def contact(c: Container, email: str = ANN) -> UUID:
    created, _ = c.contacts.upsert(ContactInput(email))
    return created.id


def reason_of(c: Container, address: str = ANN) -> str | None:
    row = get_suppression(c.db, address)
    return None if row is None else row.reason


def versions(c: Container, *emails: str) -> dict[str, int | None]:
    """Each address's suppression and preferences version in the store (None: no such aggregate)."""
    found: dict[str, int | None] = {}
    for email in emails:
        found[f"suppression:{email}"] = len(list(c.suppressions.events.get(suppression_id(email)))) or None
        found[f"preferences:{email}"] = (
            len(list(c.preferences.events.get(preferences_id(contact_id_for(email))))) or None
        )
    return found


def test_the_reactor_is_registered_behind_the_read_models_it_reads(container: Container) -> None:
    reactor = container.runner.projections[NAME]

    assert set(reactor.after) == {"email_events", "contact_activity", "suppressions", "preferences"}
    assert list(container.runner.projections).index(NAME) > list(container.runner.projections).index("preferences")


def test_a_hard_bounce_suppresses_the_address(container: Container) -> None:
    bounce = ev(T.BOUNCED, "b1", to="Ann@EXAMPLE.com", bounce=B.HARD)
    deliver(container, bounce)

    row = get_suppression(container.db, ANN)
    assert row is not None
    assert (row.reason, row.source, row.cause) == ("hard_bounce", "esp", cause(bounce))


def test_a_complaint_suppresses_and_opts_the_contact_out_as_the_esp_connection(container: Container) -> None:
    cid = contact(container)
    complaint = ev(T.COMPLAINED, "c1")
    deliver(container, complaint, request_id="req-77")

    assert reason_of(container) == "complaint"
    prefs = effective_preferences(container.db, cid)
    assert prefs.opted_out is True
    assert prefs.last_effective_at == T0.isoformat(timespec="microseconds")
    [_, opted_out] = container.history.entries(preferences_id(cid))
    assert opted_out.type.endswith("OptedOut")
    assert (opted_out.actor, opted_out.request_id) == (f"esp:{CONNECTION}", "req-77")
    assert opted_out.payload["source"] == "esp" and opted_out.payload["cause"] == cause(complaint)
    assert opted_out.reason == f"ESP-reported complained: test.complained event {cause(complaint)}"
    [suppressed] = container.history.entries(suppression_id(ANN))[1:]
    assert (suppressed.actor, suppressed.payload["source"]) == (f"esp:{CONNECTION}", "esp")


def test_a_complaint_from_an_address_that_is_no_contact_suppresses_it_but_records_no_preferences(
    container: Container,
) -> None:
    deliver(container, ev(T.COMPLAINED, "c1", to="stranger@example.com"))

    assert reason_of(container, "stranger@example.com") == "complaint"
    assert versions(container, "stranger@example.com")["preferences:stranger@example.com"] is None
    # Created later, the contact is suppressed from its first moment; its preferences start fresh.
    cid = contact(container, "stranger@example.com")
    settle(container)
    assert effective_preferences(container.db, cid).opted_out is False
    assert get_suppression(container.db, "stranger@example.com") is not None


def test_an_unsubscribe_leaves_the_known_category_of_the_message_else_everything(container: Container) -> None:
    ann, bob = contact(container), contact(container, "bob@example.com")
    container.preferences.define_category("news", "News")
    settle(container)

    deliver(
        container,
        ev(T.UNSUBSCRIBED, "u1", tidings_category="news"),
        ev(T.UNSUBSCRIBED, "u2", to="bob@example.com", tidings_category="no-such-category"),
    )

    ann_prefs, bob_prefs = effective_preferences(container.db, ann), effective_preferences(container.db, bob)
    assert ann_prefs.opted_out is False
    assert {c.key: (c.subscribed, c.explicit) for c in ann_prefs.categories} == {"news": (False, True)}
    assert bob_prefs.opted_out is True
    assert reason_of(container) is None


def test_a_resubscribe_older_than_our_last_change_is_ignored_and_a_newer_one_applies(container: Container) -> None:
    cid = contact(container)
    container.preferences.opt_out(cid, "admin", effective_at=T0 + timedelta(hours=1))
    settle(container)

    deliver(container, ev(T.RESUBSCRIBED, "r1", at=T0 + timedelta(minutes=30)))
    assert effective_preferences(container.db, cid).opted_out is True

    deliver(container, ev(T.RESUBSCRIBED, "r2", at=T0 + timedelta(hours=2)))
    assert effective_preferences(container.db, cid).opted_out is False
    last = container.history.entries(preferences_id(cid))[-1]
    assert (last.type.rpartition(".")[2], last.actor, last.payload["source"]) == (
        "OptedIn",
        f"esp:{CONNECTION}",
        "esp",
    )


def test_the_esp_suppression_list_adds_and_lifts_only_its_own_suppressions(container: Container) -> None:
    bob = "bob@example.com"
    deliver(container, ev(T.SUPPRESSION_ADDED, "a1"), ev(T.BOUNCED, "b1", to=bob, bounce=B.HARD))
    assert (reason_of(container), reason_of(container, bob)) == ("esp", "hard_bounce")

    later = T0 + timedelta(hours=1)
    deliver(container, ev(T.SUPPRESSION_ADDED, "a2", to=bob, at=later))
    deliver(container, ev(T.SUPPRESSION_REMOVED, "x1", at=later), ev(T.SUPPRESSION_REMOVED, "x2", to=bob, at=later))

    assert reason_of(container) is None
    assert reason_of(container, bob) == "hard_bounce"  # the ESP's list neither replaced nor lifted it


def test_a_removal_older_than_the_esp_suppression_in_force_is_ignored(container: Container) -> None:
    deliver(container, ev(T.SUPPRESSION_ADDED, "a1", at=T0 + timedelta(hours=1)))
    deliver(container, ev(T.SUPPRESSION_REMOVED, "x1", at=T0))

    assert reason_of(container) == "esp"


@pytest.mark.parametrize(
    ("offsets_in_days", "suppressed"),
    [((0, 1), False), ((0, 1, 2), True), ((0, 4, 8), False), ((0, 6.9, 6.95), True)],
    ids=["below-the-limit", "at-the-limit", "outside-the-window", "just-inside-the-window"],
)
def test_soft_bounces_suppress_at_the_limit_within_the_window(
    container: Container, offsets_in_days: tuple[float, ...], suppressed: bool
) -> None:
    bounces = [
        ev(T.BOUNCED, f"s{i}", at=T0 + timedelta(days=days), bounce=B.SOFT) for i, days in enumerate(offsets_in_days)
    ]
    for bounce in bounces:
        deliver(container, bounce)

    row = get_suppression(container.db, ANN)
    assert (row is not None) is suppressed
    if row is not None:
        assert (row.reason, row.cause) == ("soft_bounces", cause(bounces[-1]))


@pytest.mark.parametrize("react_each", [True, False], ids=["reacting-to-each", "reacting-once"])
def test_soft_bounces_arriving_out_of_order_still_make_a_run(container: Container, react_each: bool) -> None:
    hours = (2, 0, 1)  # the latest bounce is reported first
    for i, h in enumerate(hours):
        container.intake.record(
            [Delivery(uuid4(), CONNECTION, "test", {}, "{}", "test", None,
                      [ev(T.BOUNCED, f"s{i}", at=T0 + timedelta(hours=h), bounce=B.SOFT)], [])]
        )  # fmt: skip
        if react_each:
            settle(container)
    settle(container)

    assert reason_of(container) == "soft_bounces"


def test_a_soft_bounce_delivered_again_counts_once(container: Container) -> None:
    bounce = ev(T.BOUNCED, "s1", bounce=B.SOFT)
    for _ in range(3):
        deliver(container, bounce)
    deliver(container, ev(T.BOUNCED, "s2", at=T0 + timedelta(hours=1), bounce=B.SOFT))

    assert reason_of(container) is None


def test_the_same_webhook_twice_changes_nothing(container: Container) -> None:
    contact(container)
    events = [ev(T.COMPLAINED, "c1"), ev(T.BOUNCED, "b1", to="bob@example.com", bounce=B.HARD)]
    deliver(container, *events)
    before, head = versions(container, ANN, "bob@example.com"), container.store.head()

    deliver(container, *events)
    deliver(container, events[0], events[0])  # and repeated inside one delivery

    assert versions(container, ANN, "bob@example.com") == before
    assert container.store.head() == head + 2  # the two deliveries themselves, nothing more


def test_a_redelivered_event_that_found_nothing_to_do_does_not_undo_a_newer_change(container: Container) -> None:
    cid = contact(container)
    container.preferences.opt_out(cid, "admin", effective_at=T0)
    unsubscribe = ev(T.UNSUBSCRIBED, "u1", at=T0 + timedelta(minutes=1))
    deliver(container, unsubscribe)  # already opted out: nothing changes, the cause is only noted
    deliver(container, ev(T.RESUBSCRIBED, "r1", at=T0 + timedelta(minutes=2)))
    assert effective_preferences(container.db, cid).opted_out is False

    deliver(container, unsubscribe)

    assert effective_preferences(container.db, cid).opted_out is False


def test_reacting_to_the_whole_log_again_changes_nothing(container: Container) -> None:
    contact(container)
    deliver(container, ev(T.COMPLAINED, "c1"), ev(T.BOUNCED, "b1", to="bob@example.com", bounce=B.HARD))
    deliver(container, ev(T.RESUBSCRIBED, "r1", at=T0 + timedelta(hours=1)))
    head = container.store.head()

    container.runner.rebuild(NAME)
    settle(container)

    assert container.store.head() == head
    assert container.runner.position(NAME) == head


def test_a_renormalized_delivery_is_followed_again(container: Container) -> None:
    unknown = NormalizedEvent(T.UNKNOWN, "Bounce.Weird", ANN, T0, key="sha256:item-1")
    delivery_id = deliver(container, unknown)
    assert reason_of(container) is None

    fixed = NormalizedEvent(T.BOUNCED, "Bounce.HardBounce", ANN, T0, bounce_class=B.HARD, key="sha256:item-1")
    container.intake.renormalize(delivery_id, [fixed], [])
    settle(container)

    assert reason_of(container) == "hard_bounce"


def test_events_for_invalid_addresses_are_ignored(container: Container) -> None:
    head = container.store.head()
    deliver(container, ev(T.COMPLAINED, "c1", to="not an address"), ev(T.BOUNCED, "b1", to="x@-bad-", bounce=B.HARD))

    assert container.store.head() == head + 1


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[Container]:
    env = {"TIDINGS_DATA_DIR": str(tmp_path), "TIDINGS_SOFT_BOUNCE_LIMIT": "1", "TIDINGS_SOFT_BOUNCE_WINDOW_DAYS": "1"}
    c = build(Settings.from_env(env))
    yield c
    c.close()


def test_the_soft_bounce_settings_come_from_the_environment(strict: Container) -> None:
    assert (strict.settings.soft_bounce_limit, strict.settings.soft_bounce_window_days) == (1, 1)
    assert (Settings().soft_bounce_limit, Settings().soft_bounce_window_days) == (3, 7)

    deliver(strict, ev(T.BOUNCED, "s1", bounce=B.SOFT))

    assert reason_of(strict) == "soft_bounces"
