"""The contacts read model: rows equal the aggregates, typed attribute rows follow ADR 0003, and a read model
kept up in small random batches equals the same one rebuilt from zero (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.contacts import ContactInput
from domain.contact import KEEP
from domain.email_address import contact_id_for
from interfaces.bootstrap import Container
from projections.contacts import ContactsProjection, attributes_of, get_contact, snapshot
from projections.runner import ProjectionRunner

VIEW = ContactsProjection.name
emails = st.sampled_from(["ann@example.com", "bob@example.org", "cy@müller.de"])
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=8),
    st.sampled_from(["2024-05-01", "2024-05-01T10:00:00+02:00", "2024-02-30"]),
)
upserts = st.builds(
    ContactInput,
    emails,
    st.dictionaries(st.sampled_from(["plan", "seats", "vip", "since"]), values, max_size=3),
    st.sampled_from([KEEP, None, "UTC", "Asia/Tokyo"]),
    st.sampled_from([KEEP, None, "en", "fr-CA"]),
)


def typed_rows(attributes: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """ADR 0003's columns for each attribute, stated independently of the projection."""
    rows: dict[str, tuple[Any, ...]] = {}
    for name, v in attributes.items():
        if isinstance(v, bool):
            rows[name] = ("boolean", None, float(v), None)
        elif isinstance(v, int | float):
            rows[name] = ("number", None, float(v), None)
        elif v in ("2024-05-01", "2024-05-01T10:00:00+02:00"):
            stamp = "2024-05-01T00:00:00.000000+00:00" if v == "2024-05-01" else "2024-05-01T08:00:00.000000+00:00"
            rows[name] = ("datetime", v, None, stamp)
        else:
            rows[name] = ("string", v, None, None)
    return rows


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(upserts, min_size=1, max_size=12), st.integers(1, 7))
def test_batched_rows_match_the_aggregates_and_a_rebuild(container: Container, ops: list[Any], batch: int) -> None:
    partial = ProjectionRunner(container.store, container.keys.mapper, container.db, [ContactsProjection()], batch)
    partial.setup()
    for op in ops:
        container.contacts.upsert(op)

    partial.catch_up(VIEW)

    for email in {str(op.email) for op in ops}:
        contact = container.contacts.get(contact_id_for(email.replace("müller", "xn--mller-kva")))
        row = get_contact(container.db, contact.id)
        assert row is not None
        assert (row.email, row.timezone, row.locale, row.attributes) == (
            contact.email, contact.timezone, contact.locale, contact.attributes
        )  # fmt: skip
        stored = {r["name"]: (r["kind"], r["text_value"], r["num_value"], r["time_value"])
                  for r in attributes_of(container.db, contact.id)}  # fmt: skip
        assert stored == typed_rows(contact.attributes)
    container.runner.catch_up(VIEW)
    incremental = snapshot(container.db)
    container.runner.rebuild(VIEW)
    assert snapshot(container.db) == incremental
