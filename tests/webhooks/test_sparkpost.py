"""SparkPost adapter: Basic or bearer credentials, msys batches, bounce classes, quarantine, fuzzing."""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.email_event import BounceClass, EmailEventType, NormalizedEvent, Quarantined
from interfaces.webhooks.provider import BadPayload, VerificationFailed, VerifyContext, WebhookRejected, WebhookRequest
from interfaces.webhooks.providers.sparkpost import PROVIDER

FIXTURES = Path(__file__).parent / "fixtures" / "sparkpost"
CTX = VerifyContext(now=datetime(2026, 1, 31, 12, 0, tzinfo=UTC))
BASIC = msgspec.convert({"basic_auth": {"username": "sparkpost", "password": "hunter2"}}, PROVIDER.Settings)
BEARER = msgspec.convert({"bearer_token": "oauth-access-token"}, PROVIDER.Settings)
T, B = EmailEventType, BounceClass


def request(body: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
    return WebhookRequest("https://tidings.example/webhooks/1", headers or {}, body)


def basic(username: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def parse(payload: Any) -> list[NormalizedEvent | Quarantined]:
    result = PROVIDER.parse(request(json.dumps(payload).encode()))
    assert isinstance(result, list)
    return result


def events(payload: Any) -> list[NormalizedEvent]:
    parsed = parse(payload)
    assert all(isinstance(p, NormalizedEvent) for p in parsed), parsed
    return parsed  # type: ignore[return-value]


def message_event(**fields: Any) -> dict[str, Any]:
    event = {"type": "delivery", "event_id": "1", "rcpt_to": "a@example.com", "timestamp": "1454442600", **fields}
    return {"msys": {"message_event": event}}


SAMPLES = (FIXTURES / "sample_events.json").read_bytes()
EXPECTED = {
    "injection": (T.ACCEPTED, None),
    "delivery": (T.DELIVERED, None),
    "bounce": (T.BOUNCED, B.HARD),
    "delay": (T.DEFERRED, None),
    "policy_rejection": (T.REJECTED, None),
    "out_of_band": (T.BOUNCED, B.HARD),
    "spam_complaint": (T.COMPLAINED, None),
    "open": (T.OPENED, None),
    "initial_open": (T.OPENED, None),
    "amp_open": (T.OPENED, None),
    "amp_initial_open": (T.OPENED, None),
    "click": (T.CLICKED, None),
    "amp_click": (T.CLICKED, None),
    "generation_failure": (T.FAILED, None),
    "generation_rejection": (T.REJECTED, None),
    "list_unsubscribe": (T.UNSUBSCRIBED, None),
    "link_unsubscribe": (T.UNSUBSCRIBED, None),
    "relay_injection": (T.UNKNOWN, None),
}


def sample(name: str) -> NormalizedEvent:
    (found,) = [e for e in events(json.loads(SAMPLES)) if e.provider_event_type == name]
    return found


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items())
def test_every_sample_event_maps_to_its_normalized_type(name: str, expected: tuple[T, B | None]) -> None:
    event = sample(name)
    assert (event.type, event.bounce_class) == expected


def test_the_sample_batch_yields_one_event_per_item_in_order() -> None:
    parsed = events(json.loads(SAMPLES))
    assert [e.provider_event_type for e in parsed] == list(EXPECTED)
    assert len({e.dedup_key() for e in parsed}) == len(parsed)


def test_the_ping_sent_when_the_webhook_is_created_yields_nothing() -> None:
    assert PROVIDER.parse(request((FIXTURES / "ping.json").read_bytes())) == []


def test_a_delivery_keeps_ids_time_and_recipient_metadata() -> None:
    event = sample("delivery")
    assert event.recipient == "recipient@example.com"
    assert event.occurred_at == datetime(2016, 2, 2, 19, 50, tzinfo=UTC)
    assert event.provider_event_id == "92356927693813857"
    # The transmission id is what the Transmissions API returned when we sent.
    assert event.provider_message_id == "65832150921904138"
    assert event.metadata == {"customKey": "customValue", "tags": '["male","US"]'}


def test_a_bounce_keeps_the_raw_reason_and_smtp_code() -> None:
    event = sample("bounce")
    assert event.reason == "554 5.7.1 [internal] recipient blackholed"
    assert event.smtp_code == "554"


def test_a_click_keeps_link_user_agent_and_ip() -> None:
    event = sample("click")
    assert event.click_url == "http://example.com"
    assert event.ip == "127.0.0.1"
    assert event.user_agent is not None and event.user_agent.startswith("Mozilla/5.0")


def test_an_iso_timestamp_on_generation_failure_is_accepted() -> None:
    assert sample("generation_failure").occurred_at == datetime(2018, 10, 11, 23, 24, 45, tzinfo=UTC)


def test_sub_second_timestamps_are_kept() -> None:
    (event,) = events([message_event(timestamp="1454442600.25")])
    assert event.occurred_at == datetime(2016, 2, 2, 19, 50, 0, 250000, tzinfo=UTC)


def test_the_original_case_recipient_is_lower_cased_when_rcpt_to_is_absent() -> None:
    (event,) = events([{"msys": {"message_event": {"type": "delivery", "raw_rcpt_to": "Someone@Example.COM",
                                                    "timestamp": "1454442600"}}}])  # fmt: skip
    assert event.recipient == "someone@example.com"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("10", (T.BOUNCED, B.HARD)),
        ("30", (T.BOUNCED, B.HARD)),
        ("90", (T.BOUNCED, B.HARD)),
        ("20", (T.BOUNCED, B.SOFT)),
        ("22", (T.BOUNCED, B.SOFT)),
        ("40", (T.BOUNCED, B.SOFT)),
        ("51", (T.BOUNCED, B.SOFT)),
        ("60", (T.BOUNCED, B.SOFT)),
        ("100", (T.BOUNCED, B.SOFT)),
        ("1", (T.BOUNCED, B.UNDETERMINED)),
        ("80", (T.BOUNCED, B.UNDETERMINED)),
        ("999", (T.BOUNCED, B.UNDETERMINED)),
        ("not a class", (T.BOUNCED, B.UNDETERMINED)),
        (None, (T.BOUNCED, B.UNDETERMINED)),
        ("25", (T.REJECTED, None)),
    ],
)
def test_bounce_classes_decide_how_final_a_bounce_is(code: str | None, expected: tuple[T, B | None]) -> None:
    (event,) = events([message_event(type="bounce", bounce_class=code)])
    assert (event.type, event.bounce_class) == expected


def test_an_unknown_event_type_is_kept_as_unknown() -> None:
    (event,) = events([message_event(type="ab_test_completed")])
    assert (event.type, event.provider_event_type) == (T.UNKNOWN, "ab_test_completed")


def test_duplicates_within_a_batch_share_a_dedup_key() -> None:
    first, second = events([message_event(), message_event()])
    assert first.dedup_key() == second.dedup_key() == "id:1:a@example.com"


def test_bad_items_are_quarantined_while_the_rest_is_parsed() -> None:
    parsed = parse([
        "not an object",
        {"no": "msys"},
        {"msys": {"message_event": "not an object"}},
        message_event(rcpt_to=None),
        message_event(timestamp="yesterday"),
        message_event(timestamp=True),
        message_event(event_id="good"),
    ])  # fmt: skip
    assert [type(p).__name__ for p in parsed] == ["Quarantined"] * 6 + ["NormalizedEvent"]
    reasons = [p.reason for p in parsed if isinstance(p, Quarantined)]
    assert reasons[3] == "rcpt_to is missing or not an email address"
    assert reasons[4] == "timestamp is neither unix seconds nor ISO 8601"
    assert parsed[1].item == {"no": "msys"}  # type: ignore[union-attr]


def test_big_integer_ids_stay_exact() -> None:
    body = (
        b'[{"msys":{"message_event":{"type":"delivery","event_id":92356927693813856123,'
        b'"transmission_id":65832150921904138001,"rcpt_to":"a@example.com","timestamp":"1454442600"}}}]'
    )
    (event,) = PROVIDER.parse(request(body))  # type: ignore[misc]
    assert event.provider_event_id == "92356927693813856123"
    assert event.provider_message_id == "65832150921904138001"


@pytest.mark.parametrize("body", [b"{}", b'"x"', b"42", b"null", b"\xff", b"[", b"[" * 40 + b"]" * 40])
def test_an_unusable_body_is_a_bad_payload(body: bytes) -> None:
    with pytest.raises(BadPayload):
        PROVIDER.parse(request(body))


def test_basic_credentials_verify() -> None:
    verified = PROVIDER.verify(request(SAMPLES, basic("sparkpost", "hunter2")), BASIC, CTX)
    assert verified.method == "basic"


def test_a_bearer_token_verifies() -> None:
    verified = PROVIDER.verify(request(SAMPLES, {"authorization": "Bearer oauth-access-token"}), BEARER, CTX)
    assert verified.method == "bearer"


@pytest.mark.parametrize(
    ("headers", "configured"),
    [
        (basic("sparkpost", "wrong"), BASIC),
        (basic("someone", "hunter2"), BASIC),
        ({"authorization": "Bearer oauth-access-token"}, BASIC),
        ({"authorization": "Bearer wrong-token"}, BEARER),
        (basic("sparkpost", "hunter2"), BEARER),
        ({"authorization": "Basic not*base64"}, BASIC),
    ],
)
def test_wrong_credentials_fail(headers: dict[str, str], configured: Any) -> None:
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(request(SAMPLES, headers), configured, CTX)


@pytest.mark.parametrize("configured", [BASIC, BEARER])
def test_missing_credentials_fail(configured: Any) -> None:
    with pytest.raises(VerificationFailed, match="missing"):
        PROVIDER.verify(request(SAMPLES), configured, CTX)


def test_the_body_is_not_signed_so_a_tampered_body_cannot_be_detected() -> None:
    # SparkPost has no payload signature; only the credentials authenticate the sender.
    verified = PROVIDER.verify(request(SAMPLES + b" ", basic("sparkpost", "hunter2")), BASIC, CTX)
    assert verified.method == "basic"


@pytest.mark.parametrize(
    "webhook",
    [
        {},
        {"basic_auth": {"username": "u", "password": "p"}, "bearer_token": "t"},
        {"bearer_token": ""},
        {"secret": "x"},
    ],
)
def test_settings_require_exactly_one_credential(webhook: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(webhook, PROVIDER.Settings)


def test_no_replay_key_is_needed_because_event_ids_deduplicate() -> None:
    # Without a signed timestamp there is no window to guard; re-deliveries dedup on event_id.
    verified = PROVIDER.verify(request(SAMPLES, basic("sparkpost", "hunter2")), BASIC, CTX)
    assert (verified.replay_key, verified.replay_ttl) == (None, 0)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
FIELDS = ["type", "rcpt_to", "raw_rcpt_to", "timestamp", "event_id", "transmission_id", "message_id",
          "bounce_class", "rcpt_meta", "rcpt_tags", "error_code", "raw_reason", "target_link_url"]  # fmt: skip
EVENT = st.dictionaries(st.sampled_from(FIELDS), JSON | st.sampled_from(["bounce", "a@b.c", "10", "1454442600"]))
SHAPED = st.lists(st.builds(lambda e: {"msys": {"message_event": e}}, EVENT) | JSON, max_size=5)


def assert_only_rejections(body: bytes, headers: dict[str, str] | None = None) -> None:
    with contextlib.suppress(WebhookRejected):
        parsed = PROVIDER.parse(request(body, headers))
        assert isinstance(parsed, list)
        for item in parsed:
            if isinstance(item, NormalizedEvent):
                item.keyed()
    for configured in (BASIC, BEARER):
        with contextlib.suppress(WebhookRejected):
            PROVIDER.verify(request(body, headers), configured, CTX)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.dictionaries(st.sampled_from(["authorization", "x"]), st.text(max_size=40)))
def test_arbitrary_bytes_raise_only_webhook_rejections(body: bytes, headers: dict[str, str]) -> None:
    assert_only_rejections(body, headers)


@settings(max_examples=150, deadline=None)
@given(JSON | SHAPED)
def test_arbitrary_json_raises_only_webhook_rejections(value: Any) -> None:
    assert_only_rejections(json.dumps(value).encode())
