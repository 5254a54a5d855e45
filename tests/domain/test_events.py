"""Every event says who caused it, in which request, and why."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

import domain
from domain.api_key import ApiKey
from domain.events import SYSTEM, TidingsAggregate, because, caused_by, current_actor
from tests.domain.scenarios import KEY_ID

ENVELOPE = ("actor", "request_id", "reason")


def one_event_of_each_type() -> list[Any]:
    """Issue, rename and revoke a key in the current context; the three events it records."""
    key = ApiKey.issue(KEY_ID, "Deploy bot", "editor", "a" * 64, "tdg_AbCdEf")
    key.rename("Release bot")
    key.revoke()
    return list(key.collect_events())


def who(event: Any) -> tuple[str, str | None, str | None]:
    return event.actor, event.request_id, event.reason


def test_every_event_records_the_actor_request_and_reason_of_its_context() -> None:
    with caused_by("api_key:7", request_id="req-1", reason="rotation"):
        events = one_event_of_each_type()

    assert [type(e) for e in events] == [ApiKey.Issued, ApiKey.Renamed, ApiKey.Revoked]
    assert [who(e) for e in events] == [("api_key:7", "req-1", "rotation")] * 3


def test_a_command_with_no_context_is_recorded_as_caused_by_system() -> None:
    events = one_event_of_each_type()

    assert [who(e) for e in events] == [(SYSTEM, None, None)] * 3


def test_because_sets_only_the_reason() -> None:
    with caused_by("cli:ops", request_id="req-2", reason="outer"):
        with because("leaked in a screenshot"):
            inside = one_event_of_each_type()
        after = one_event_of_each_type()

    assert {who(e) for e in inside} == {("cli:ops", "req-2", "leaked in a screenshot")}
    assert {who(e) for e in after} == {("cli:ops", "req-2", "outer")}


def test_because_without_a_caller_keeps_the_system_actor() -> None:
    with because("nightly clean-up"):
        events = one_event_of_each_type()

    assert {who(e) for e in events} == {(SYSTEM, None, "nightly clean-up")}


def test_the_context_ends_with_its_block_even_when_the_command_fails() -> None:
    with pytest.raises(ValueError), caused_by("cli:ops", request_id="req-3"):
        raise ValueError("boom")

    assert current_actor() == SYSTEM
    assert {who(e) for e in one_event_of_each_type()} == {(SYSTEM, None, None)}


def _domain_aggregates() -> list[type[TidingsAggregate]]:
    for module in pkgutil.walk_packages(domain.__path__, prefix="domain."):
        importlib.import_module(module.name)
    found, todo = [], [TidingsAggregate]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("domain."):
            found.append(cls)
    return found


def _event_classes() -> list[tuple[str, type]]:
    pairs = []
    for aggregate in _domain_aggregates():
        for attr in dir(aggregate):
            value = getattr(aggregate, attr)
            if isinstance(value, type) and issubclass(value, Aggregate.Event):
                pairs.append((f"{aggregate.__name__}.{attr}", value))
    return sorted(set(pairs), key=lambda p: p[0])


EVENT_CLASSES = _event_classes()


def test_the_introspection_finds_the_api_key_events() -> None:
    names = {name for name, _ in EVENT_CLASSES}

    assert {"ApiKey.Issued", "ApiKey.Renamed", "ApiKey.Revoked"} <= names


@pytest.mark.parametrize(("name", "event_class"), EVENT_CLASSES, ids=[name for name, _ in EVENT_CLASSES])
def test_every_domain_event_class_has_actor_request_id_and_reason(name: str, event_class: type) -> None:
    fields = {f.name: f for f in dataclasses.fields(event_class)}

    missing = [f for f in ENVELOPE if f not in fields]
    assert missing == [], f"{name} must derive from TidingsAggregate.Event"
    # Filled from the context, never passed by a command.
    assert [fields[f].init for f in ENVELOPE] == [False, False, False]
