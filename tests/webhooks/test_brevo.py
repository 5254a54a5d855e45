"""Brevo adapter: Basic or bearer credentials, single and batched events, time units, fuzzing."""

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
from interfaces.webhooks.providers.brevo import PROVIDER

FIXTURES = Path(__file__).parent / "fixtures" / "brevo"
CTX = VerifyContext(now=datetime(2026, 1, 31, 12, 0, tzinfo=UTC))
BASIC = msgspec.convert({"basic_auth": {"username": "brevo", "password": "hunter2"}}, PROVIDER.Settings)
BEARER = msgspec.convert({"bearer_token": "brevo-webhook-token"}, PROVIDER.Settings)
T, B = EmailEventType, BounceClass


def request(body: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
    return WebhookRequest("https://tidings.example/webhooks/1", headers or {}, body)


def basic(username: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def parse(payload: Any) -> list[NormalizedEvent | Quarantined]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    result = PROVIDER.parse(request(body))
    assert isinstance(result, list)
    return result


def one(payload: Any) -> NormalizedEvent:
    (event,) = parse(payload)
    assert isinstance(event, NormalizedEvent), event
    return event


def item(**fields: Any) -> dict[str, Any]:
    return {"event": "delivered", "email": "a@example.com", "ts_epoch": 1604933654123, "message-id": "<m@x>", **fields}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("request", (T.ACCEPTED, None)),
        ("delivered", (T.DELIVERED, None)),
        ("deferred", (T.DEFERRED, None)),
        ("hard_bounce", (T.BOUNCED, B.HARD)),
        ("soft_bounce", (T.BOUNCED, B.SOFT)),
        ("blocked", (T.REJECTED, None)),
        ("invalid_email", (T.REJECTED, None)),
        ("error", (T.FAILED, None)),
        ("spam", (T.COMPLAINED, None)),
        ("complaint", (T.COMPLAINED, None)),
        ("opened", (T.OPENED, None)),
        ("unique_opened", (T.OPENED, None)),
        ("proxy_open", (T.OPENED, None)),
        ("unique_proxy_open", (T.OPENED, None)),
        ("click", (T.CLICKED, None)),
        ("unsubscribe", (T.UNSUBSCRIBED, None)),
    ],
)
def test_every_event_maps_to_its_normalized_type(name: str, expected: tuple[T, B | None]) -> None:
    event = one(fixture(name))
    assert (event.type, event.bounce_class, event.provider_event_type) == (*expected, name)


def test_a_delivery_keeps_message_id_time_recipient_and_metadata() -> None:
    event = one(fixture("delivered"))
    assert event.recipient == "example@domain.com"
    assert event.provider_message_id == "<202010091200.12345678901@smtp-relay.mailin.fr>"
    assert event.provider_event_id is None  # Brevo has no event id: the canonical hash dedups
    assert event.dedup_key().startswith("sha256:")
    assert event.occurred_at == datetime(2020, 11, 9, 14, 54, 14, 123000, tzinfo=UTC)
    assert event.metadata == {"order": "A-1001", "attempt": "2", "tags": '["transac_messages"]'}


def test_ts_epoch_in_seconds_is_detected_by_magnitude() -> None:
    # The documented "request" example gives ts_epoch in seconds.
    assert one(fixture("request")).occurred_at == datetime(2020, 11, 9, 14, 54, 14, tzinfo=UTC)


def test_ts_event_is_used_when_ts_epoch_is_missing() -> None:
    assert one(fixture("complaint")).occurred_at == datetime(2020, 11, 9, 14, 54, 14, tzinfo=UTC)


def test_the_misspelt_s_epoch_and_a_json_encoded_tag_are_understood() -> None:
    event = one(fixture("proxy_open"))
    assert event.occurred_at == datetime(2020, 11, 9, 14, 54, 14, tzinfo=UTC)
    assert event.metadata["tags"] == '["transactionalTag"]'


def test_proxy_opens_are_machine_opens_and_other_opens_are_not() -> None:
    assert one(fixture("proxy_open")).machine_open is True
    assert one(fixture("unique_proxy_open")).machine_open is True
    assert one(fixture("opened")).machine_open is False
    assert one(fixture("delivered")).machine_open is None


def test_a_bounce_keeps_the_reason_trimmed_and_a_click_its_link() -> None:
    assert one(fixture("hard_bounce")).reason == (
        "RecipientError: 550 5.5.0 Requested action not taken: mailbox unavailable."
    )
    assert one(fixture("click")).click_url == "https://example.com/click/me"


def test_a_single_tag_and_a_plain_custom_header_are_kept() -> None:
    event = one(item(tag="header-tag", **{"X-Mailin-custom": "plain text"}))
    assert event.metadata == {"X-Mailin-custom": "plain text", "tags": '["header-tag"]'}


def test_a_batched_delivery_yields_one_event_per_item() -> None:
    parsed = parse(fixture("batched"))
    assert [(e.type, e.recipient) for e in parsed] == [  # type: ignore[union-attr]
        (T.DELIVERED, "first@example.com"),
        (T.OPENED, "first@example.com"),
        (T.CLICKED, "second@example.com"),
    ]
    assert len({e.dedup_key() for e in parsed}) == 3  # type: ignore[union-attr]


def test_an_empty_batch_yields_nothing() -> None:
    assert parse([]) == []


def test_duplicates_within_a_batch_share_a_dedup_key() -> None:
    first, second = parse([item(), item()])
    assert isinstance(first, NormalizedEvent) and isinstance(second, NormalizedEvent)
    assert first.dedup_key() == second.dedup_key()
    assert first.dedup_key() != one(item(event="opened")).dedup_key()


def test_an_unknown_event_name_is_kept_as_unknown() -> None:
    event = one(item(event="list_addition"))
    assert (event.type, event.provider_event_type) == (T.UNKNOWN, "list_addition")


def test_bad_items_are_quarantined_while_the_rest_is_parsed() -> None:
    parsed = parse(["nope", item(event=None), item(email="not-an-address"), item(ts_epoch=None), item(ts_epoch="soon"),
                    item(ts_epoch=True), item()])  # fmt: skip
    assert [type(p).__name__ for p in parsed] == ["Quarantined"] * 6 + ["NormalizedEvent"]
    assert parsed[2].reason == "email is missing or not an email address"  # type: ignore[union-attr]
    assert parsed[3].reason == "no usable UTC time (ts_epoch or ts_event)"  # type: ignore[union-attr]
    assert parsed[0].item == "nope"  # type: ignore[union-attr]


def test_big_integers_stay_exact() -> None:
    body = b'{"event":"delivered","email":"a@example.com","ts_epoch":1604933654123,"message-id":123456789012345678901}'
    assert one(body).provider_message_id == "123456789012345678901"


@pytest.mark.parametrize("body", [b'"x"', b"42", b"null", b"\xff\xfe", b"{", b"[" * 40 + b"]" * 40])
def test_an_unusable_body_is_a_bad_payload(body: bytes) -> None:
    with pytest.raises(BadPayload):
        PROVIDER.parse(request(body))


def test_basic_credentials_verify() -> None:
    assert PROVIDER.verify(request(fixture("delivered"), basic("brevo", "hunter2")), BASIC, CTX).method == "basic"


def test_a_bearer_token_verifies() -> None:
    headers = {"authorization": "Bearer brevo-webhook-token"}
    assert PROVIDER.verify(request(fixture("delivered"), headers), BEARER, CTX).method == "bearer"


@pytest.mark.parametrize(
    ("headers", "configured"),
    [
        (basic("brevo", "wrong"), BASIC),
        (basic("someone", "hunter2"), BASIC),
        ({"authorization": "Bearer brevo-webhook-token"}, BASIC),
        ({"authorization": "Bearer wrong"}, BEARER),
        (basic("brevo", "hunter2"), BEARER),
    ],
)
def test_wrong_credentials_fail(headers: dict[str, str], configured: Any) -> None:
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(request(fixture("delivered"), headers), configured, CTX)


@pytest.mark.parametrize("configured", [BASIC, BEARER])
def test_missing_credentials_fail(configured: Any) -> None:
    with pytest.raises(VerificationFailed, match="missing"):
        PROVIDER.verify(request(fixture("delivered")), configured, CTX)


def test_the_body_is_not_signed_so_a_tampered_body_cannot_be_detected() -> None:
    # Brevo has no payload signature; only the credentials authenticate the sender.
    tampered = fixture("delivered").replace(b"example@domain.com", b"victim@domain.com")
    assert PROVIDER.verify(request(tampered, basic("brevo", "hunter2")), BASIC, CTX).method == "basic"


@pytest.mark.parametrize(
    "webhook", [{}, {"basic_auth": {"username": "u", "password": "p"}, "bearer_token": "t"}, {"bearer_token": ""}]
)
def test_settings_require_exactly_one_credential(webhook: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(webhook, PROVIDER.Settings)


def test_no_replay_key_is_returned_because_there_is_no_signed_timestamp() -> None:
    verified = PROVIDER.verify(request(fixture("delivered"), basic("brevo", "hunter2")), BASIC, CTX)
    assert (verified.replay_key, verified.replay_ttl) == (None, 0)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
FIELDS = ["event", "email", "ts_epoch", "s_epoch", "ts_event", "message-id", "tag", "tags", "X-Mailin-custom",
          "reason", "link"]  # fmt: skip
TEXTS = st.sampled_from(["hard_bounce", "proxy_open", "a@b.c", '["t"]', '{"k": [1]}', "1604933654123", "nan"])
ITEM = st.dictionaries(st.sampled_from(FIELDS), JSON | TEXTS)


def assert_only_rejections(body: bytes, headers: dict[str, str] | None = None) -> None:
    with contextlib.suppress(WebhookRejected):
        parsed = PROVIDER.parse(request(body, headers))
        assert isinstance(parsed, list)
        for found in parsed:
            if isinstance(found, NormalizedEvent):
                found.keyed()
    for configured in (BASIC, BEARER):
        with contextlib.suppress(WebhookRejected):
            PROVIDER.verify(request(body, headers), configured, CTX)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.dictionaries(st.sampled_from(["authorization", "x"]), st.text(max_size=40)))
def test_arbitrary_bytes_raise_only_webhook_rejections(body: bytes, headers: dict[str, str]) -> None:
    assert_only_rejections(body, headers)


@settings(max_examples=150, deadline=None)
@given(JSON | ITEM | st.lists(ITEM | JSON, max_size=4))
def test_arbitrary_json_raises_only_webhook_rejections(value: Any) -> None:
    assert_only_rejections(json.dumps(value).encode())
