"""The issue's property: for random contacts, tags, events and nested definitions, the SQL engine selects
exactly the contacts the plain-Python reference evaluator selects, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.email_address import contact_id_for
from interfaces.bootstrap import Container
from projections import segment_engine
from tests.projections import segment_reference
from tests.projections.segment_world import Activity, Contact, World, create_tables, load

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SLUGS = ["a", "b", "a_b", "b-c", "x1"]
NAMES = ["age", "plan", "vip", "signup", "score"]
TYPES = ["opened", "clicked", "delivered", "bounced"]
CAMPAIGNS = ["c1", "c2", "c_3"]
CATEGORIES = ["news", "offers", "old-news"]
TIMEZONES = [None, "UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]
LOCALES = [None, "en", "fr-FR", "de"]
TEXTS = ["gold", "Gold", "gol", "silver", "", "é", "gold ", "a%_b", "2026-01-05", "2026-01-05T10:00:00+02:00",
         "2026-01-05T08:00:00Z", "2025-12-31", "zz"]  # fmt: skip
# Day offsets around the windows the definitions use, so boundaries are hit exactly.
DAY_OFFSETS = [0, 1, 6, 7, 8, 29, 30, 31, 89, 90, 91, 200, 400]

instants = st.builds(
    lambda days, minutes: NOW - timedelta(days=days) + timedelta(minutes=minutes),
    st.sampled_from(DAY_OFFSETS),
    st.sampled_from([0, 0, 0, -1, 1, -600, 600]),
)
iso_texts = st.one_of(
    instants.map(lambda m: m.isoformat()),
    instants.map(lambda m: m.date().isoformat()),
    instants.map(lambda m: m.astimezone(UTC).isoformat().replace("+00:00", "Z")),
)
numbers = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, -1.5, 2.0, 1e-3]))
scalars = st.one_of(numbers, st.booleans(), st.sampled_from(TEXTS), iso_texts)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    world = World()
    for i in range(draw(st.integers(0, 5))):
        parent = draw(st.sampled_from([None, *world.tags.values()]))
        path = f"{parent}/{draw(st.sampled_from(SLUGS))}" if parent else draw(st.sampled_from(SLUGS))
        if path not in world.tags.values() and path.count("/") < 8:
            world.tags[f"t{i}"] = path
    for i in range(draw(st.integers(1, 10))):
        email = draw(st.sampled_from(["ann", "bob", "cy", "dee"])) + f"{i}@" + draw(st.sampled_from(["x.io", "y.org"]))
        attributes = draw(st.dictionaries(st.sampled_from(NAMES), scalars, max_size=4))
        zone, locale = draw(st.sampled_from(TIMEZONES)), draw(st.sampled_from(LOCALES))
        contact = Contact(str(contact_id_for(email)), email, zone, locale, draw(instants), attributes)
        world.contacts.append(contact)
        for tag_id in draw(st.lists(st.sampled_from(sorted(world.tags)), max_size=3)) if world.tags else []:
            world.assignments.add((contact.id, tag_id))
        for j in range(draw(st.integers(0, 5))):
            kind, campaign = draw(st.sampled_from(TYPES)), draw(st.sampled_from([None, *CAMPAIGNS]))
            world.activity.append(Activity(f"{contact.id}-{j}", contact.id, kind, campaign, draw(instants)))
    _draw_preferences(draw, world)
    return world


def _draw_preferences(draw: st.DrawFn, world: World) -> None:
    world.categories = draw(st.dictionaries(st.sampled_from(CATEGORIES), st.booleans(), max_size=3))
    for contact in world.contacts:
        for key in draw(st.lists(st.sampled_from(sorted(world.categories)), max_size=2)) if world.categories else []:
            world.choices[(contact.id, key)] = draw(st.booleans())
        if draw(st.integers(0, 3)) == 0:
            world.opted_out.add(contact.id)
        if draw(st.integers(0, 3)) == 0:
            world.suppressed.add(contact.id)


preference_conditions = st.one_of(
    st.sampled_from([*CATEGORIES, "unknown"]).map(lambda k: {"subscribed": k}),
    st.booleans().map(lambda b: {"opted_out": b}),
    st.booleans().map(lambda b: {"suppressed": b}),
)


def tag_conditions(world: World) -> st.SearchStrategy[dict[str, Any]]:
    paths = st.sampled_from(sorted({*world.tags.values(), "a", "a/b", "zz"}))
    return st.builds(lambda p, exact: {"tag": p, "exact": exact} if exact is not None else {"tag": p},
                     paths, st.sampled_from([None, True, False]))  # fmt: skip


@st.composite
def attribute_conditions(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from([*NAMES, "email", "email_domain", "timezone", "locale", "created_at"]))
    op = draw(st.sampled_from(["eq", "neq", "lt", "lte", "gt", "gte", "between", "in", "not_in", "contains",
                               "starts_with", "exists", "not_exists"]))  # fmt: skip
    if op in ("exists", "not_exists"):
        return {"attribute": name, "op": op}
    texts = st.sampled_from([*TEXTS, "x.io", "ANN", "ann1", "Europe/", "fr"])
    if op in ("contains", "starts_with") and name != "created_at":
        return {"attribute": name, "op": op, "value": draw(texts)}
    if name == "created_at":
        kinds = [iso_texts]
        op = "eq" if op in ("contains", "starts_with") else op
    elif name in ("email", "email_domain", "timezone", "locale"):
        kinds = [texts]
    elif op in ("lt", "lte", "gt", "gte", "between"):
        kinds = [numbers, iso_texts, texts]
    else:
        kinds = [numbers, st.booleans(), iso_texts, texts]
    one = draw(st.sampled_from(kinds))
    if op == "between" and name in ("email", "email_domain"):
        # The engine lower-cases these fields' values before comparing, so order the bounds the same way.
        value: Any = sorted([draw(one), draw(one)], key=str.lower)
    elif op == "between":
        value = _ordered([draw(one), draw(one)])
    elif op in ("in", "not_in"):
        value = draw(st.lists(one, min_size=1, max_size=3))
    else:
        value = draw(one)
    return {"attribute": name, "op": op, "value": value}


def _ordered(pair: list[Any]) -> list[Any]:
    instants = [segment_reference.instant(v) if isinstance(v, str) else None for v in pair]
    if all(isinstance(v, str) for v in pair) and None in instants:
        return sorted(pair)
    return [v for _, v in sorted(zip(instants if None not in instants else pair, pair, strict=True))]


@st.composite
def event_conditions(draw: st.DrawFn) -> dict[str, Any]:
    node: dict[str, Any] = {"event": draw(st.sampled_from(TYPES))}
    optional = {
        "campaign": st.sampled_from(CAMPAIGNS),
        "within_days": st.sampled_from([1, 7, 30, 90, 365]),
        "since": iso_texts,
        "until": iso_texts,
        "min_count": st.integers(0, 3),
    }
    for key, values in optional.items():
        if draw(st.booleans()):
            node[key] = draw(values)
    if draw(st.booleans()):
        node["max_count"] = node.get("min_count", 1) + draw(st.integers(0, 2))
    return node


S1, S2, S3 = (f"00000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))
SAVED = {S1: {"tag": "a"}, S2: {"not": {"event": "opened", "within_days": 90}}, S3: {"segment": S1}}


def definitions(world: World) -> st.SearchStrategy[dict[str, Any]]:
    leaves = st.one_of(
        tag_conditions(world), attribute_conditions(), event_conditions(), preference_conditions,
        st.sampled_from(sorted(SAVED)).map(lambda s: {"segment": s}),
    )  # fmt: skip
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"and": xs}),
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"or": xs}),
            inner.map(lambda x: {"not": x}),
        ),
        max_leaves=6,
    )


@pytest.fixture
def prepared(container: Container) -> Container:
    create_tables(container.db)
    return container


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_engine_selects_what_the_reference_evaluator_selects(prepared: Container, data: st.DataObject) -> None:
    world = data.draw(worlds())
    load(prepared.db, world)
    for definition in data.draw(st.lists(definitions(world), min_size=1, max_size=4)):
        expected = segment_reference.members(world, definition, NOW, SAVED.get)

        page = segment_engine.members(prepared.db, definition, NOW, limit=1000, resolver=SAVED.get)

        event("selects " + ("none" if not expected else "all" if len(expected) == len(world.contacts) else "some"))
        assert {str(m.id) for m in page.members} == expected, definition
        assert segment_engine.count(prepared.db, definition, NOW, resolver=SAVED.get) == len(expected)
