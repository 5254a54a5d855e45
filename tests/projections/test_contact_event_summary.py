"""contact_event_summary: each contact's latest event of each type, kept from contact_activity as deliveries
and re-normalizations arrive, equal to the table derived from contact_activity in one statement and to a
rebuild from the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.intake import Delivery
from domain.email_address import contact_id_for
from domain.email_event import EmailEventType, NormalizedEvent
from interfaces.bootstrap import Container
from projections import segment_engine
from projections.contact_event_summary import TABLE, derive

T0 = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
CONNECTION = UUID("0b6f6a4e-3c39-4b7e-9d7a-8a3c7d1e2f00")
OPENED, CLICKED = EmailEventType.OPENED, EmailEventType.CLICKED


def event(recipient: str, kind: EmailEventType = OPENED, esp_id: str = "e1", at: datetime = T0) -> NormalizedEvent:
    return NormalizedEvent(kind, kind.value, recipient, at, provider_event_id=esp_id).keyed()


def hashed(recipient: str, kind: EmailEventType = OPENED, at: datetime = T0, item: str = "item-1") -> NormalizedEvent:
    """An event the ESP gave no id: keyed by its item's hash, which a re-normalization keeps."""
    return NormalizedEvent(kind, kind.value, recipient, at, key=f"sha256:{item}")


def deliver(c: Container, *events: NormalizedEvent) -> UUID:
    delivery_id = uuid4()
    c.intake.record([Delivery(delivery_id, CONNECTION, "test", {}, "{}", "test", None, list(events), [])])
    c.runner.catch_up_all()
    return delivery_id


def summary(c: Container) -> list[tuple[Any, ...]]:
    rows = c.db.query(f"SELECT type, contact_id, last_at, last_id FROM {TABLE} ORDER BY type, contact_id")
    return [(r["type"], r["contact_id"], r["last_at"], r["last_id"]) for r in rows]


def derived(c: Container) -> list[tuple[Any, ...]]:
    """The table as ``derive`` computes it from contact_activity (the incremental rows are put back after)."""
    kept = summary(c)
    with c.db.transaction() as tx:
        derive(tx)
    rows = summary(c)
    with c.db.transaction() as tx:
        tx.execute(f"DELETE FROM {TABLE}")
        tx.executemany(f"INSERT INTO {TABLE} (type, contact_id, last_at, last_id) VALUES (?, ?, ?, ?)", kept)
    return rows


def latest(c: Container, address: str, kind: str) -> str | None:
    rows = c.db.query(
        f"SELECT last_at FROM {TABLE} WHERE contact_id = ? AND type = ?", (str(contact_id_for(address)), kind)
    )
    return rows[0]["last_at"] if rows else None


def test_keeps_the_latest_event_of_each_type_per_contact(container: Container) -> None:
    deliver(container, event("ann@example.com", at=T0), event("ann@example.com", CLICKED, "e2", T0))
    deliver(container, event("Ann@Example.com", esp_id="e3", at=T0 + timedelta(days=2)))
    deliver(container, event("ann@example.com", esp_id="e4", at=T0 - timedelta(days=9)))  # late, older

    assert latest(container, "ann@example.com", "opened") == "2026-11-03T09:30:00.000000+00:00"
    assert latest(container, "ann@example.com", "clicked") == "2026-11-01T09:30:00.000000+00:00"
    assert latest(container, "ann@example.com", "bounced") is None
    assert len(summary(container)) == 2


def test_among_events_at_the_same_instant_the_latest_is_the_largest_id(container: Container) -> None:
    deliver(container, *(event("ann@example.com", esp_id=f"e{i}") for i in range(4)))
    deliver(container, event("ann@example.com", esp_id="e9"))

    (row,) = summary(container)
    ids = [r["id"] for r in container.db.query("SELECT id FROM contact_activity")]
    assert row[3] == max(ids)
    assert summary(container) == derived(container)


def test_a_renormalization_that_moves_the_latest_event_away_recomputes_both_contacts(container: Container) -> None:
    delivery = deliver(container, hashed("bob@example.com", at=T0 + timedelta(days=1)))
    deliver(container, event("bob@example.com", esp_id="e2", at=T0))

    # The fixed adapter finds the same item (same key) for another recipient.
    assert container.intake.renormalize(delivery, [hashed("cy@example.com", at=T0 + timedelta(days=1))], [])
    container.runner.catch_up_all()

    assert latest(container, "bob@example.com", "opened") == "2026-11-01T09:30:00.000000+00:00"
    assert latest(container, "cy@example.com", "opened") == "2026-11-02T09:30:00.000000+00:00"
    assert summary(container) == derived(container)


def test_a_pair_whose_only_event_goes_is_removed(container: Container) -> None:
    delivery = deliver(container, event("ann@example.com", CLICKED, "e1"), hashed("bob@example.com", item="b"))

    # e1 becomes an open; bob's item now names no valid address.
    fixed = [event("ann@example.com", OPENED, "e1"), hashed("bob", item="b")]
    assert container.intake.renormalize(delivery, fixed, [])
    container.runner.catch_up_all()

    assert [(kind, contact) for kind, contact, _, _ in summary(container)] == [
        ("opened", str(contact_id_for("ann@example.com")))
    ]


RECIPIENTS = ["ann@example.com", "bob@example.com", "cy@example.com", "not an address"]
KINDS = [OPENED, CLICKED, EmailEventType.DELIVERED]
items = st.builds(
    lambda recipient, kind, hours, item: hashed(recipient, kind, T0 + timedelta(hours=hours), f"i{item}"),
    st.sampled_from(RECIPIENTS),
    st.sampled_from(KINDS),
    st.sampled_from([0, 0, 1, 5, -3]),  # equal times too: the latest is then the largest id
    st.integers(0, 6),
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("deliver"), st.lists(items, min_size=1, max_size=4)),
        st.tuples(st.integers(0, 5), st.lists(items, max_size=4)),  # re-normalize the n-th delivery
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=steps)
def test_incremental_rows_equal_the_derived_rows_and_a_rebuild(container: Container, history: list[Any]) -> None:
    # The container (and its log) lives across examples: each example adds to the history.
    deliveries: list[UUID] = []
    for step, found in history:
        if step == "deliver":
            deliveries.append(deliver(container, *found))
        elif deliveries:
            container.intake.renormalize(deliveries[step % len(deliveries)], found, [])
            container.runner.catch_up_all()

    incremental = summary(container)
    assert incremental == derived(container)
    container.runner.rebuild(TABLE)
    assert summary(container) == incremental


def test_only_at_least_one_event_after_an_instant_reads_the_summary() -> None:
    def reads(definition: dict[str, Any]) -> set[str]:
        text = segment_engine.parse(definition).where("postgres", T0).text
        return {t for t in (TABLE, "contact_activity") if t in text}

    assert reads({"event": "opened"}) == {TABLE}
    assert reads({"not": {"event": "opened", "within_days": 90, "since": "2026-01-01"}}) == {TABLE}
    assert reads({"event": "bounced", "min_count": 0, "max_count": 0}) == {TABLE}
    assert reads({"event": "opened", "max_count": 3}) == {TABLE, "contact_activity"}
    for counted in ({"campaign": "c1"}, {"until": "2026-01-01"}, {"min_count": 2}):
        assert reads({"event": "opened", **counted}) == {"contact_activity"}
