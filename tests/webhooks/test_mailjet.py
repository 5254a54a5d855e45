"""Mailjet adapter: Basic credentials, v1 single events and v2 grouped arrays, exact MessageIDs, fuzzing."""

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
from interfaces.webhooks.providers.mailjet import PROVIDER

FIXTURES = Path(__file__).parent / "fixtures" / "mailjet"
CTX = VerifyContext(now=datetime(2026, 1, 31, 12, 0, tzinfo=UTC))
SETTINGS = msgspec.convert({"basic_auth": {"username": "mailjet", "password": "hunter2"}}, PROVIDER.Settings)
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
    return {"event": "sent", "time": 1433333949, "MessageID": 19421777835146490, "email": "a@example.com", **fields}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sent", (T.DELIVERED, None)),
        ("open", (T.OPENED, None)),
        ("click", (T.CLICKED, None)),
        ("bounce", (T.BOUNCED, B.HARD)),
        ("bounce_soft", (T.BOUNCED, B.SOFT)),
        ("bounce_greylisted", (T.DEFERRED, None)),
        ("blocked", (T.REJECTED, None)),
        ("spam", (T.COMPLAINED, None)),
        ("unsub", (T.UNSUBSCRIBED, None)),
    ],
)
def test_every_event_maps_to_its_normalized_type(name: str, expected: tuple[T, B | None]) -> None:
    event = one(fixture(name))
    assert (event.type, event.bounce_class) == expected


def test_a_bounce_without_hard_bounce_is_undetermined() -> None:
    event = one(item(event="bounce", error="user unknown"))
    assert (event.type, event.bounce_class) == (T.BOUNCED, B.UNDETERMINED)


def test_sent_keeps_the_exact_message_id_time_smtp_reply_and_custom_id() -> None:
    event = one(fixture("sent"))
    assert event.provider_message_id == "19421777835146490"  # beyond 2^53: a float would give ...6500
    assert event.provider_event_id is None  # Mailjet has no event id: the canonical hash dedups
    assert event.occurred_at == datetime(2015, 6, 3, 12, 19, 9, tzinfo=UTC)
    assert event.recipient == "api@mailjet.com"
    assert (event.reason, event.smtp_code) == ("sent (250 2.0.0 OK 1433333948 fa5si855896wjc.199 - gsmtp)", "250")
    assert event.metadata == {"CustomID": "helloworld"}


def test_a_bounce_reason_names_what_the_error_relates_to() -> None:
    assert one(fixture("bounce")).reason == "recipient: user unknown"


def test_a_click_keeps_url_ip_and_agent() -> None:
    event = one(fixture("click"))
    assert (event.click_url, event.ip) == ("https://mailjet.com", "127.0.0.1")
    assert event.user_agent == "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_0) AppleWebKit/537.36"


def test_a_json_payload_is_spread_into_metadata() -> None:
    assert one(fixture("unsub")).metadata == {"list": "newsletter", "user_id": "42", "CustomID": "helloworld"}


def test_a_plain_payload_is_kept_as_is() -> None:
    assert one(item(Payload="order 42")).metadata == {"Payload": "order 42"}


def test_a_grouped_delivery_yields_one_event_per_item_with_the_legacy_message_id() -> None:
    parsed = parse(fixture("grouped"))
    assert [e.provider_message_id for e in parsed] == [  # type: ignore[union-attr]
        "18858825588804172",
        "18858825588803684",
        "18014400413866302",
        "18858825588804459",
    ]
    assert all(e.type is T.DELIVERED for e in parsed)  # type: ignore[union-attr]
    assert len({e.dedup_key() for e in parsed}) == 4  # type: ignore[union-attr]


def test_duplicates_within_a_batch_share_a_dedup_key() -> None:
    first, second = parse([item(), item()])
    assert isinstance(first, NormalizedEvent) and isinstance(second, NormalizedEvent)
    assert first.dedup_key() == second.dedup_key()


def test_an_unknown_event_name_is_kept_as_unknown() -> None:
    event = one(item(event="forward"))
    assert (event.type, event.provider_event_type) == (T.UNKNOWN, "forward")


def test_bad_items_are_quarantined_while_the_rest_is_parsed() -> None:
    parsed = parse([7, item(event=3), item(email=None), item(time="later"), item(time=None), item()])
    assert [type(p).__name__ for p in parsed] == ["Quarantined"] * 5 + ["NormalizedEvent"]
    assert parsed[2].reason == "email is missing or not an email address"  # type: ignore[union-attr]
    assert parsed[3].reason == "time is missing or not unix seconds"  # type: ignore[union-attr]


@pytest.mark.parametrize("body", [b'"x"', b"1", b"true", b"\xc3", b"[{", b"[" * 40 + b"]" * 40])
def test_an_unusable_body_is_a_bad_payload(body: bytes) -> None:
    with pytest.raises(BadPayload):
        PROVIDER.parse(request(body))


def test_basic_credentials_verify() -> None:
    assert PROVIDER.verify(request(fixture("sent"), basic("mailjet", "hunter2")), SETTINGS, CTX).method == "basic"


@pytest.mark.parametrize(
    "headers", [basic("mailjet", "wrong"), basic("other", "hunter2"), {"authorization": "Bearer hunter2"}]
)
def test_wrong_credentials_fail(headers: dict[str, str]) -> None:
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(request(fixture("sent"), headers), SETTINGS, CTX)


def test_missing_credentials_fail() -> None:
    with pytest.raises(VerificationFailed, match="missing"):
        PROVIDER.verify(request(fixture("sent")), SETTINGS, CTX)


def test_the_body_is_not_signed_so_a_tampered_body_cannot_be_detected() -> None:
    # Mailjet has no payload signature; only the credentials in the URL authenticate the sender.
    tampered = fixture("sent").replace(b"api@mailjet.com", b"victim@mailjet.com")
    assert PROVIDER.verify(request(tampered, basic("mailjet", "hunter2")), SETTINGS, CTX).method == "basic"


@pytest.mark.parametrize("webhook", [{}, {"bearer_token": "t"}, {"basic_auth": {"username": "u"}}])
def test_settings_require_basic_credentials(webhook: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(webhook, PROVIDER.Settings)


def test_no_replay_key_is_returned_because_there_is_no_signed_timestamp() -> None:
    verified = PROVIDER.verify(request(fixture("sent"), basic("mailjet", "hunter2")), SETTINGS, CTX)
    assert (verified.replay_key, verified.replay_ttl) == (None, 0)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
FIELDS = ["event", "email", "time", "MessageID", "mj_message_id", "hard_bounce", "error", "error_related_to",
          "smtp_reply", "CustomID", "Payload", "url", "ip", "agent"]  # fmt: skip
TEXTS = st.sampled_from(["bounce", "greylisted", "a@b.c", '{"k": {"n": [1]}}', "1433333949", "sent (250 OK)"])
ITEM = st.dictionaries(st.sampled_from(FIELDS), JSON | TEXTS)


def assert_only_rejections(body: bytes, headers: dict[str, str] | None = None) -> None:
    with contextlib.suppress(WebhookRejected):
        parsed = PROVIDER.parse(request(body, headers))
        assert isinstance(parsed, list)
        for found in parsed:
            if isinstance(found, NormalizedEvent):
                found.keyed()
    with contextlib.suppress(WebhookRejected):
        PROVIDER.verify(request(body, headers), SETTINGS, CTX)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.dictionaries(st.sampled_from(["authorization", "x"]), st.text(max_size=40)))
def test_arbitrary_bytes_raise_only_webhook_rejections(body: bytes, headers: dict[str, str]) -> None:
    assert_only_rejections(body, headers)


@settings(max_examples=150, deadline=None)
@given(JSON | ITEM | st.lists(ITEM | JSON, max_size=4))
def test_arbitrary_json_raises_only_webhook_rejections(value: Any) -> None:
    assert_only_rejections(json.dumps(value).encode())
