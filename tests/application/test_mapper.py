"""The msgspec mapper: events come back equal and typed, and old payloads are upcast on the way in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from hypothesis import given
from hypothesis import strategies as st

from application.mapper import MsgspecMapper
from domain.api_key import ApiKey, Role
from domain.events import TidingsAggregate, because, caused_by

mapper = MsgspecMapper()


def round_trip(event: Any) -> Any:
    return mapper.to_domain_event(mapper.to_stored_event(event))


def api_key_events() -> list[Any]:
    """One event of every ApiKey type, with a request id and a None reason on the first two."""
    with caused_by("api_key:1f0c", request_id="req-1"):
        key = ApiKey.issue(uuid4(), "Deploy bot", "editor", "a" * 64, "tdg_AbCdEf")
        key.rename("Release bot")
        with because("leaked"):
            key.revoke()
    return list(key.collect_events())


def api_key_event_types() -> set[type]:
    """Every event class ApiKey declares, without the Event and Created bases the library gives it."""
    return {
        v
        for a, v in ((a, getattr(ApiKey, a)) for a in dir(ApiKey) if a not in ("Event", "Created"))
        if isinstance(v, type) and issubclass(v, Aggregate.Event)
    }


# Test-only event types (unique names: eventsourcing refuses to define a class name twice in a module).


class MapperProbe(TidingsAggregate):
    """Carries field types ApiKey events do not use yet."""

    class Assigned(TidingsAggregate.Event):
        role: Role
        ref: UUID
        due: datetime
        note: str | None
        counts: dict[str, int]


class UpcastProbe(TidingsAggregate):
    """An event whose second version added a field."""

    class Noted(TidingsAggregate.Event):
        class_version = 2

        text: str
        channel: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["channel"] = "email"


class ChainedUpcastProbe(TidingsAggregate):
    """An event upcast twice: v1 → v2 renames a field, v2 → v3 adds one."""

    class Tagged(TidingsAggregate.Event):
        class_version = 3

        label: str
        colour: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["label"] = state.pop("tag")

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["colour"] = "grey"


def v1_payload(**fields: Any) -> bytes:
    """A payload as an older release wrote it: no class_version, no later fields."""
    envelope = {"timestamp": "2026-01-31T12:00:00+00:00", "actor": "cli:ops", "request_id": None, "reason": None}
    return json.dumps({**envelope, **fields}).encode()


# -- round trips ------------------------------------------------------------------------------------


def test_the_sample_covers_every_api_key_event_type() -> None:
    assert {type(e) for e in api_key_events()} == api_key_event_types()


@pytest.mark.parametrize("index", [0, 1, 2], ids=["Issued", "Renamed", "Revoked"])
def test_every_api_key_event_round_trips_to_an_equal_event(index: int) -> None:
    event = api_key_events()[index]

    restored = round_trip(event)

    assert type(restored) is type(event)
    assert restored == event
    assert isinstance(restored.originator_id, UUID)
    assert restored.timestamp.tzinfo is not None


def test_a_restored_event_mutates_an_aggregate_like_the_original() -> None:
    events = api_key_events()

    key = None
    for e in events:
        key = round_trip(e).mutate(key)

    assert isinstance(key, ApiKey)
    assert (key.name, key.revoked, key.version) == ("Release bot", True, 3)


def test_uuids_offset_datetimes_none_and_str_enums_come_back_typed() -> None:
    due = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    event = MapperProbe.Assigned(
        originator_id=uuid4(),
        originator_version=2,
        timestamp=datetime.now(UTC),
        role=Role.APPROVER,
        ref=uuid4(),
        due=due,
        note=None,
        counts={"sent": 3},
    )

    restored = round_trip(event)

    assert restored == event
    assert type(restored.role) is Role
    assert isinstance(restored.ref, UUID)
    assert restored.due.utcoffset() == timedelta(hours=5, minutes=30)
    assert restored.note is None


@given(
    name=st.text(),
    actor=st.text(),
    request_id=st.none() | st.text(),
    reason=st.none() | st.text(),
)
def test_any_text_in_names_and_reasons_round_trips(
    name: str, actor: str, request_id: str | None, reason: str | None
) -> None:
    with caused_by(actor, request_id=request_id, reason=reason):
        event = ApiKey.Renamed(originator_id=uuid4(), originator_version=2, timestamp=datetime.now(UTC), name=name)

    assert round_trip(event) == event


# -- upcasting --------------------------------------------------------------------------------------


def test_a_v1_payload_is_upcast_with_the_new_field_filled_in() -> None:
    stored = StoredEvent(uuid4(), 2, get_topic(UpcastProbe.Noted), v1_payload(text="hello"))

    event = mapper.to_domain_event(stored)

    assert isinstance(event, UpcastProbe.Noted)
    assert (event.text, event.channel, event.actor) == ("hello", "email", "cli:ops")
    assert event.timestamp == datetime(2026, 1, 31, 12, tzinfo=UTC)


def test_a_current_payload_records_its_class_version_and_is_not_upcast_again() -> None:
    event = UpcastProbe.Noted(
        originator_id=uuid4(), originator_version=2, timestamp=datetime.now(UTC), text="hi", channel="sms"
    )

    stored = mapper.to_stored_event(event)

    assert json.loads(stored.state)["class_version"] == 2
    assert mapper.to_domain_event(stored) == event


def test_upcasters_run_in_order_from_the_stored_version() -> None:
    topic = get_topic(ChainedUpcastProbe.Tagged)
    from_v1 = StoredEvent(uuid4(), 2, topic, v1_payload(tag="vip"))
    from_v2 = StoredEvent(uuid4(), 2, topic, v1_payload(label="vip", class_version=2))

    assert (mapper.to_domain_event(from_v1).label, mapper.to_domain_event(from_v1).colour) == ("vip", "grey")
    assert (mapper.to_domain_event(from_v2).label, mapper.to_domain_event(from_v2).colour) == ("vip", "grey")
