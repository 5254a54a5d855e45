"""The intake hot path's shortcuts give exactly what the plain code they replace gives."""

from __future__ import annotations

import json
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4, uuid5

from hypothesis import given
from hypothesis import strategies as st

from application.compression import FastZlibCompressor
from application.intake import Delivery
from domain.email_event import BounceClass, EmailEventType, NormalizedEvent
from interfaces.bootstrap import Container
from interfaces.webhooks.provider import MAX_NESTING, BadPayload, _depth, decode_json
from projections.email_events import _Stamps, _uuid5_text, stamp

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=40,
)


def reference_depth(value: Any) -> int:
    """The nesting rule as first written: every value, scalars included, is one level below its container."""
    if isinstance(value, dict):
        return 1 + max((reference_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((reference_depth(v) for v in value), default=0)
    return 1


def nested(levels: int, leaf: Any) -> Any:
    value = leaf
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


@given(json_values)
def test_depth_agrees_with_the_reference_rule(value: Any) -> None:
    assert _depth(value) == reference_depth(value)


@given(st.integers(min_value=0, max_value=MAX_NESTING + 3), st.sampled_from([1, "x", [], {}]))
def test_nesting_limit_sits_exactly_at_max_nesting(levels: int, leaf: Any) -> None:
    body = json.dumps(nested(levels, leaf)).encode()
    if reference_depth(nested(levels, leaf)) > MAX_NESTING:
        try:
            decode_json(body)
        except BadPayload as exc:
            assert "nested deeper" in exc.message
        else:
            raise AssertionError("too deep a body was accepted")
    else:
        assert decode_json(body) == nested(levels, leaf)


events = st.builds(
    NormalizedEvent,
    type=st.sampled_from(EmailEventType),
    provider_event_type=st.text(max_size=5),
    recipient=st.emails(),
    occurred_at=st.datetimes(timezones=st.just(UTC)),
    provider_event_id=st.none() | st.text(max_size=8),
    bounce_class=st.none() | st.sampled_from(BounceClass),
    metadata=st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
    raw=json_values,
)


@given(events)
def test_keyed_is_replace_with_the_key_fixed_and_raw_dropped(event: NormalizedEvent) -> None:
    original = event.raw
    keyed = event.keyed()
    assert keyed == replace(event, key=event.dedup_key(), raw=None)
    assert keyed.key == event.dedup_key() and keyed.raw is None and type(keyed) is NormalizedEvent
    assert event.raw is original and event.key == ""  # the received event is left as it was
    assert keyed.keyed() == keyed


@given(st.uuids(), st.text())
def test_event_ids_are_uuid5_of_connection_and_key(connection: UUID, key: str) -> None:
    assert _uuid5_text(connection.bytes, key) == str(uuid5(connection, key))


@given(st.lists(st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])), max_size=6))
def test_memoized_stamps_equal_stamp(moments: list[datetime]) -> None:
    stamps = _Stamps()
    assert [stamps(m) for m in moments * 2] == [stamp(m) for m in moments * 2]


@given(st.binary(max_size=6000) | st.text(max_size=3000).map(str.encode))
def test_fast_compression_round_trips_through_the_standard_decompressor(data: bytes) -> None:
    assert zlib.decompress(FastZlibCompressor().compress(data)) == data


def test_a_recorded_delivery_reads_back_as_normalized_events_through_the_runners_mapper(container: Container) -> None:
    # Other projections (contact_activity) read `events` from the runner's mapper, not the intake's.
    normalized = NormalizedEvent(
        type=EmailEventType.CLICKED,
        provider_event_type="click",
        recipient="a@example.com",
        occurred_at=datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=UTC),
        provider_event_id="ev-1",
        click_url="https://example.com/",
        metadata={"campaign": "c1"},
        raw={"sg_event_id": "ev-1"},
    ).keyed()
    delivery = Delivery(uuid4(), uuid4(), "sendgrid", {}, "[]", "basic", None, [normalized], [])
    position = container.intake.record([delivery])
    notifications = container.store.recorder.select_notifications(start=position, limit=1)
    stored = container.runner.mapper.to_domain_event(notifications[0])
    assert stored.events == [normalized]
    assert isinstance(stored.events[0], NormalizedEvent) and stored.events[0].type is EmailEventType.CLICKED
