"""Parsing and validating segment definitions: every refusal names the JSON path of the offending node."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import Invalid
from domain.segment_definition_errors import InvalidSegmentDefinition
from interfaces.http.errors import on_domain_error
from projections import segment_engine
from projections.segment_engine.syntax import MAX_DEPTH, MAX_NODES

NOW = datetime(2026, 11, 28, tzinfo=UTC)
A, B, C = (f"00000000-0000-4000-8000-00000000000{i}" for i in "abc")


def refusal(definition: Any, resolver: Any = None, segment_id: str | None = None) -> dict[str, Any]:
    with pytest.raises(InvalidSegmentDefinition) as caught:
        segment_engine.validate(definition, resolver, segment_id)
    return caught.value.details


OK = {"tag": "a"}
INVALID = [
    # (definition, JSON path of the offending node)
    ([], "$"),
    ("tag", "$"),
    ({}, "$"),
    ({"tag": "a", "event": "opened"}, "$"),
    ({"nope": 1}, "$"),
    ({"and": []}, "$.and"),
    ({"and": {"tag": "a"}}, "$.and"),
    ({"or": [OK, {"tag": "a"}, 5]}, "$.or[2]"),
    ({"and": [OK, {"and": [OK, {"or": [OK, {"tag": "Bad"}]}]}]}, "$.and[1].and[1].or[1].tag"),
    ({"and": [OK], "extra": 1}, "$.extra"),
    ({"not": [OK]}, "$.not"),
    ({"not": {"not": {}}}, "$.not.not"),
    ({"tag": ""}, "$.tag"),
    ({"tag": "a//b"}, "$.tag"),
    ({"tag": "a/b/c/d/e/f/g/h/i"}, "$.tag"),
    ({"tag": "x" * 65}, "$.tag"),
    ({"tag": "a/"}, "$.tag"),
    ({"tag": 3}, "$.tag"),
    ({"tag": "a", "exact": "yes"}, "$.exact"),
    ({"tag": "a", "exakt": True}, "$.exakt"),
    ({"tag": "a", "odd key!": True}, '$["odd key!"]'),
    ({"attribute": "1bad", "op": "eq", "value": 1}, "$.attribute"),
    ({"attribute": "updated_at", "op": "eq", "value": 1}, "$.attribute"),
    ({"attribute": None, "op": "exists"}, "$.attribute"),
    ({"attribute": "age", "op": "like", "value": 1}, "$.op"),
    ({"attribute": "age"}, "$.op"),
    ({"attribute": "age", "op": "eq"}, "$"),
    ({"attribute": "age", "op": "exists", "value": 1}, "$.value"),
    ({"attribute": "age", "op": "eq", "value": None}, "$.value"),
    ({"attribute": "age", "op": "eq", "value": {"a": 1}}, "$.value"),
    ({"attribute": "age", "op": "eq", "value": [1]}, "$.value"),
    ({"attribute": "age", "op": "eq", "value": "a\x00b"}, "$.value"),
    ({"attribute": "age", "op": "eq", "value": 10**400}, "$.value"),
    ({"attribute": "age", "op": "eq", "value": float("nan")}, "$.value"),
    ({"attribute": "vip", "op": "lt", "value": True}, "$.value"),
    ({"attribute": "age", "op": "between", "value": [1]}, "$.value"),
    ({"attribute": "age", "op": "between", "value": [1, "a"]}, "$.value"),
    ({"attribute": "age", "op": "between", "value": [5, 1]}, "$.value"),
    ({"attribute": "vip", "op": "between", "value": [False, True]}, "$.value"),
    ({"attribute": "age", "op": "in", "value": []}, "$.value"),
    ({"attribute": "age", "op": "in", "value": [1, "a"]}, "$.value"),
    ({"attribute": "age", "op": "not_in", "value": [1, True]}, "$.value"),
    ({"attribute": "age", "op": "in", "value": list(range(1001))}, "$.value"),
    ({"attribute": "name", "op": "contains", "value": 3}, "$.value"),
    ({"attribute": "email", "op": "eq", "value": 3}, "$.value"),
    ({"attribute": "created_at", "op": "gt", "value": "yesterday"}, "$.value"),
    ({"attribute": "created_at", "op": "starts_with", "value": "2026"}, "$.value"),
    ({"attribute": "age", "op": "eq", "value": 1, "unit": "y"}, "$.unit"),
    ({"event": "read"}, "$.event"),
    ({"event": "opened", "campaign": ""}, "$.campaign"),
    ({"event": "opened", "campaign": 7}, "$.campaign"),
    ({"event": "opened", "within_days": 0}, "$.within_days"),
    ({"event": "opened", "within_days": 1.5}, "$.within_days"),
    ({"event": "opened", "within_days": True}, "$.within_days"),
    ({"event": "opened", "within_days": 36501}, "$.within_days"),
    ({"event": "opened", "since": "last week"}, "$.since"),
    ({"event": "opened", "until": "2026-01-01T10:00:00"}, "$.until"),
    ({"event": "opened", "until": "2026-02-30"}, "$.until"),
    ({"event": "opened", "min_count": -1}, "$.min_count"),
    ({"event": "opened", "min_count": 1.0}, "$.min_count"),
    ({"event": "opened", "min_count": 3, "max_count": 2}, "$.max_count"),
    ({"event": "opened", "max_count": 0}, "$.max_count"),
    ({"event": "opened", "after": "2026-01-01"}, "$.after"),
    ({"segment": "not-a-uuid"}, "$.segment"),
    ({"segment": A}, "$.segment"),  # no resolver: unknown
    ({"and": [OK, {"segment": 5}]}, "$.and[1].segment"),
]


@pytest.mark.parametrize(("definition", "path"), INVALID, ids=[p + " " + repr(d)[:40] for d, p in INVALID])
def test_refuses_an_invalid_node_naming_its_path(definition: Any, path: str) -> None:
    details = refusal(definition)

    assert details["path"] == path
    assert isinstance(details["expected"], str) and details["expected"]


def test_the_refusal_is_a_422_with_path_and_expectation() -> None:
    with pytest.raises(InvalidSegmentDefinition) as caught:
        segment_engine.validate({"and": [OK, OK, {"attribute": "age", "op": "between", "value": 3}]})

    response = on_domain_error(None, caught.value)  # type: ignore[arg-type]

    body = msgspec.to_builtins(response.content)
    assert response.status_code == 422
    assert body["error"]["code"] == "invalid_segment_definition"
    assert body["error"]["details"]["path"] == "$.and[2].value"
    assert "low, high" in body["error"]["details"]["expected"]
    assert isinstance(caught.value, Invalid)


def test_accepts_every_documented_form() -> None:
    definition = {
        "and": [
            {"tag": "interests/sports"},
            {"tag": "interests/sports_cars", "exact": True},
            {"attribute": "email_domain", "op": "in", "value": ["example.com", "example.org"]},
            {"attribute": "created_at", "op": "between", "value": ["2026-01-01", "2026-06-30T23:59:59Z"]},
            {"attribute": "age", "op": "gte", "value": 18},
            {"attribute": "vip", "op": "eq", "value": True},
            {"attribute": "plan", "op": "not_exists"},
            {"attribute": "timezone", "op": "starts_with", "value": "Europe/"},
            {"not": {"event": "opened", "within_days": 90}},
            {
                "or": [
                    {"event": "clicked", "campaign": "c-7", "since": "2026-01-01", "until": "2026-02-01"},
                    {"event": "bounced", "min_count": 0, "max_count": 0},
                ]
            },
        ]
    }

    parsed = segment_engine.parse(definition)

    for dialect in ("sqlite", "postgres"):
        where = parsed.where(dialect, NOW)
        assert where.text.count("?") == len(where.params)
        assert "example.com" not in where.text  # values are parameters, never SQL text


def test_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        segment_engine.parse(OK).where("sqlite", datetime(2026, 1, 1))


def test_refuses_nesting_deeper_than_the_guard() -> None:
    definition: dict[str, Any] = OK
    for _ in range(MAX_DEPTH):
        definition = {"not": definition}

    details = refusal(definition)

    assert details["path"] == "$" + ".not" * MAX_DEPTH
    assert str(MAX_DEPTH) in details["expected"]


def test_refuses_more_conditions_than_the_guard() -> None:
    details = refusal({"or": [OK] * MAX_NODES})

    assert details["path"] == f"$.or[{MAX_NODES - 1}]"


def test_expands_saved_segments_through_the_resolver() -> None:
    saved = {A: {"segment": B}, B: {"tag": "a"}}

    parsed = segment_engine.parse({"not": {"segment": A}}, saved.get)

    assert parsed.where("sqlite", NOW).params == ("a", 2, "a/")


def test_refuses_a_cycle_of_saved_segments() -> None:
    saved = {A: {"or": [OK, {"segment": B}]}, B: {"and": [{"segment": A}]}}

    details = refusal({"segment": A}, saved.get)

    assert details["path"] == "$.segment"
    assert details["segment"] == A


def test_refuses_a_definition_that_would_refer_back_to_the_segment_being_saved() -> None:
    saved = {B: {"segment": A}, A: OK}  # A's saved definition is fine; the new one would close a loop

    details = refusal({"segment": B}, saved.get, segment_id=A)

    assert details["path"] == "$.segment"


def test_names_the_problem_inside_a_saved_segment() -> None:
    saved = {A: {"and": [OK, {"tag": "BAD"}]}}

    details = refusal({"or": [OK, {"segment": A}]}, saved.get)

    assert details["path"] == "$.or[1].segment"
    assert details["segment_path"] == "$.and[1].tag"


def test_refuses_an_unknown_saved_segment() -> None:
    details = refusal({"segment": C}, {A: OK}.get)

    assert details["path"] == "$.segment"


def test_validate_returns_the_definition_unchanged() -> None:
    definition = {"or": [OK, {"event": "opened"}]}

    assert segment_engine.validate(definition) is definition


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    | st.sampled_from(["and", "or", "not", "tag", "attribute", "event", "segment", "op", "value", "eq", "opened", A]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(["and", "or", "not", "tag", "exact", "attribute", "op", "value", "event", "campaign",
                         "within_days", "since", "until", "min_count", "max_count", "segment", "x"]),
        inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_arbitrary_json_is_either_valid_or_refused_with_a_path(definition: Any) -> None:
    try:
        parsed = segment_engine.parse(definition, {A: OK}.get)
    except InvalidSegmentDefinition as exc:
        assert exc.details["path"].startswith("$")
        return
    for dialect in ("sqlite", "postgres"):
        where = parsed.where(dialect, NOW)
        assert where.text.count("?") == len(where.params)
