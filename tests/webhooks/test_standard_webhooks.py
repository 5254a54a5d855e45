"""Standard Webhooks adapter: the signature scheme (and its Svix twin) and Tidings' generic event format."""

from __future__ import annotations

import base64
import contextlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives import hashes, hmac
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.email_event import BounceClass, EmailEventType, NormalizedEvent, Quarantined
from interfaces.webhooks.provider import BadPayload, VerificationFailed, VerifyContext, WebhookRejected, WebhookRequest
from interfaces.webhooks.providers.standard_webhooks import PROVIDER

FIXTURES = Path(__file__).parent / "fixtures" / "standard_webhooks"
NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
CTX = VerifyContext(now=NOW)
KEY, OLD_KEY, OTHER_KEY = os.urandom(24), os.urandom(32), os.urandom(24)
T, B = EmailEventType, BounceClass


def whsec(key: bytes) -> str:
    return "whsec_" + base64.b64encode(key).decode()


SETTINGS = msgspec.convert({"secrets": [whsec(KEY)]}, PROVIDER.Settings)
ROTATING = msgspec.convert({"secrets": [whsec(OLD_KEY), whsec(KEY)]}, PROVIDER.Settings)


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(f"{msg_id}.{timestamp}.".encode() + body)
    return "v1," + base64.b64encode(mac.finalize()).decode()


def signed(body: bytes, key: bytes = KEY, msg_id: str = "msg_1", at: datetime = NOW) -> WebhookRequest:
    stamp = int(at.timestamp())
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(key, msg_id, stamp, body),
    }
    return WebhookRequest("https://tidings.example/webhooks/1", headers, body)


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def parse(payload: Any, headers: dict[str, str] | None = None) -> list[NormalizedEvent | Quarantined]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    result = PROVIDER.parse(WebhookRequest("https://tidings.example/webhooks/1", headers or {}, body))
    assert isinstance(result, list)
    return result


def one(payload: Any, headers: dict[str, str] | None = None) -> NormalizedEvent:
    (event,) = parse(payload, headers)
    assert isinstance(event, NormalizedEvent), event
    return event


def item(type_: str = "delivered", **data: Any) -> dict[str, Any]:
    return {"type": type_, "timestamp": "2026-01-31T12:00:00Z", "data": {"recipient": "a@example.com", **data}}


# The published test vector (standard-webhooks Go/C# libraries; §11 of the ESP reference).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_HEADERS = {"id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "timestamp": "1614265330",
                  "signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}  # fmt: skip
VECTOR_CTX = VerifyContext(now=datetime.fromtimestamp(1614265330, UTC))


@pytest.mark.parametrize("prefix", ["webhook", "svix"])
def test_the_published_test_vector_verifies_under_both_header_families(prefix: str) -> None:
    headers = {f"{prefix}-{name}": value for name, value in VECTOR_HEADERS.items()}
    configured = msgspec.convert({"secrets": [VECTOR_SECRET]}, PROVIDER.Settings)
    request = WebhookRequest("https://tidings.example/webhooks/1", headers, b'{"test": 2432232314}')
    verified = PROVIDER.verify(request, configured, VECTOR_CTX)
    assert verified.method == {"webhook": "standard-webhooks", "svix": "svix"}[prefix]


GOOD = signed(fixture("delivered"))


def altered(request: WebhookRequest, body: bytes | None = None, **headers: str) -> WebhookRequest:
    changed = {name.replace("_", "-"): value for name, value in headers.items()}
    return WebhookRequest(request.url, {**request.headers, **changed}, request.body if body is None else body)


@pytest.mark.parametrize(
    "forged",
    [
        altered(GOOD, body=GOOD.body.replace(b"someone", b"victim")),
        signed(fixture("delivered"), key=OTHER_KEY),
        altered(GOOD, webhook_id="msg_2"),
    ],
    ids=["tampered-body", "wrong-key", "other-message-id"],
)
def test_a_tampered_body_a_wrong_key_or_another_message_id_fails(forged: WebhookRequest) -> None:
    with pytest.raises(VerificationFailed, match="no webhook-signature v1 entry matches any configured secret"):
        PROVIDER.verify(forged, SETTINGS, CTX)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_fail(missing: str) -> None:
    request = signed(fixture("delivered"))
    headers = {k: v for k, v in request.headers.items() if k != missing}
    with pytest.raises(VerificationFailed, match="missing"):
        PROVIDER.verify(WebhookRequest(request.url, headers, request.body), SETTINGS, CTX)


@pytest.mark.parametrize("stamp", ["-1", "1.5", "abc", "١٢٣", "9" * 20])
def test_a_malformed_timestamp_fails(stamp: str) -> None:
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(altered(GOOD, webhook_timestamp=stamp), SETTINGS, CTX)


@pytest.mark.parametrize("offset", [timedelta(seconds=-301), timedelta(seconds=301), timedelta(days=-2)])
def test_a_stale_or_future_timestamp_fails(offset: timedelta) -> None:
    with pytest.raises(VerificationFailed, match="timestamp is"):
        PROVIDER.verify(signed(fixture("delivered"), at=NOW + offset), SETTINGS, CTX)


@pytest.mark.parametrize("offset", [timedelta(seconds=-300), timedelta(0), timedelta(seconds=300)])
def test_a_signed_request_up_to_five_minutes_either_way_verifies(offset: timedelta) -> None:
    assert PROVIDER.verify(signed(fixture("delivered"), at=NOW + offset), SETTINGS, CTX).method == "standard-webhooks"


@pytest.mark.parametrize("key", [OLD_KEY, KEY])
def test_during_a_rotation_either_secret_verifies(key: bytes) -> None:
    PROVIDER.verify(signed(fixture("delivered"), key=key), ROTATING, CTX)


def test_any_v1_entry_of_the_signature_list_may_match_and_other_versions_are_ignored() -> None:
    stranger = sign(OTHER_KEY, "msg_1", int(NOW.timestamp()), GOOD.body)
    valid = GOOD.headers["webhook-signature"]
    listed = f"v1a,{valid.removeprefix('v1,')} {stranger}  {valid} v2,garbage v1,not*base64"
    PROVIDER.verify(altered(GOOD, webhook_signature=listed), SETTINGS, CTX)
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(altered(GOOD, webhook_signature=f"v1a,{valid.removeprefix('v1,')}"), SETTINGS, CTX)


def test_no_replay_key_is_returned_because_the_window_is_five_minutes_and_ids_deduplicate() -> None:
    first = PROVIDER.verify(signed(fixture("delivered"), msg_id="msg_1"), SETTINGS, CTX)
    second = PROVIDER.verify(signed(fixture("delivered"), msg_id="msg_2"), SETTINGS, CTX)
    assert (first.replay_key, second.replay_key, first.replay_ttl) == (None, None, 0)


@pytest.mark.parametrize("secrets", [[], ["whsec_not base64!"], ["whsec_"], [whsec(KEY), "plain-password"]])
def test_settings_need_valid_whsec_secrets_and_never_echo_them(secrets: list[str]) -> None:
    with pytest.raises(msgspec.ValidationError) as raised:
        msgspec.convert({"secrets": secrets}, PROVIDER.Settings)
    assert all(s.removeprefix("whsec_") not in str(raised.value) for s in secrets if len(s) > 6)


def test_an_unpadded_secret_is_accepted_like_the_reference_library_does() -> None:
    key = os.urandom(16)  # 24 base64 characters with "==" padding
    configured = msgspec.convert({"secrets": [whsec(key).rstrip("=")]}, PROVIDER.Settings)
    PROVIDER.verify(signed(fixture("delivered"), key=key), configured, CTX)


@pytest.mark.parametrize("kind", list(T))
def test_every_type_maps_to_itself(kind: T) -> None:
    event = one(fixture(kind.value))
    assert (event.type, event.bounce_class) == (kind, B.HARD if kind is T.BOUNCED else None)


@pytest.mark.parametrize(
    ("kind", "given_class", "expected"),
    [("email.bounced", "soft", B.SOFT), ("bounced", None, B.UNDETERMINED), ("delivered", "hard", None)],
)
def test_bounce_class_defaults_to_undetermined_and_is_only_set_on_bounces(
    kind: str, given_class: str | None, expected: B | None
) -> None:
    assert one(item(kind, bounce_class=given_class)).bounce_class is expected


def test_a_delivery_keeps_every_field() -> None:
    event = one(fixture("delivered"))
    assert (event.provider_event_type, event.recipient) == ("email.delivered", "someone@example.com")
    assert event.occurred_at == datetime(2026, 1, 31, 12, 0, 1, 250000, tzinfo=UTC)
    assert (event.provider_event_id, event.smtp_code) == ("evt_0001", "250")
    assert event.provider_message_id == "<20260131.1200.abc@mta.example.net>"
    assert event.reason == "250 2.0.0 OK queued as 4F2A1"


def test_offsets_become_utc_metadata_strings_and_engagement_fields_are_kept() -> None:
    assert one(fixture("deferred")).occurred_at == datetime(2026, 1, 31, 11, 0, 2, tzinfo=UTC)
    assert one(fixture("accepted")).metadata == {"campaign": "spring", "batch": "7"}
    opened, clicked = one(fixture("opened")), one(fixture("clicked"))
    assert (opened.machine_open, opened.ip, opened.user_agent) == (True, "203.0.113.7", "Mozilla/5.0")
    assert clicked.click_url == "https://example.com/spring"


def test_email_is_accepted_instead_of_recipient_and_lower_cased() -> None:
    assert one(fixture("unknown")).recipient == "postmaster@example.com"


def test_a_lone_event_without_event_id_takes_the_webhook_id_header() -> None:
    assert one(item(), {"webhook-id": "msg_9"}).provider_event_id == "msg_9"
    assert one(item(), {"svix-id": "msg_8"}).provider_event_id == "msg_8"
    assert one(item(event_id="evt_7"), {"webhook-id": "msg_9"}).provider_event_id == "evt_7"


def test_a_batch_yields_one_event_per_item_and_items_without_ids_are_hashed() -> None:
    parsed = parse(fixture("batch"), {"webhook-id": "msg_batch"})
    assert [(e.type, e.provider_event_id) for e in parsed] == [  # type: ignore[union-attr]
        (T.ACCEPTED, "evt_1"),
        (T.DELIVERED, "evt_2"),
        (T.BOUNCED, None),
    ]
    assert parsed[2].dedup_key().startswith("sha256:")  # type: ignore[union-attr]


def test_duplicates_within_a_batch_share_a_dedup_key() -> None:
    a, b, c, d = parse([item(event_id="e1"), item(event_id="e1"), item(), item()], {"webhook-id": "msg_1"})
    assert a.dedup_key() == b.dedup_key() == "id:e1:a@example.com"  # type: ignore[union-attr]
    assert c.dedup_key() == d.dedup_key() != a.dedup_key()  # type: ignore[union-attr]


def test_bad_items_are_quarantined_while_the_rest_is_parsed() -> None:
    naive = {**item(), "timestamp": "2026-01-31T12:00:00"}
    bad_class = item("bounced", bounce_class="x")
    parsed = parse([[], {"type": "delivered"}, item(7), naive, item(recipient="nobody"), bad_class,
                    item(metadata=["x"]), item()])  # fmt: skip
    reasons = [p.reason if isinstance(p, Quarantined) else None for p in parsed]
    assert reasons == [
        "item is not an object with a data object",
        "item is not an object with a data object",
        "type is missing or not a string",
        "timestamp is missing or not ISO 8601 with an offset",
        "data.recipient is missing or not an email address",
        "data.bounce_class must be hard, soft or undetermined",
        "data.metadata must be an object",
        None,
    ]


def test_big_integer_ids_stay_exact() -> None:
    event = one(json.dumps(item(message_id=123456789012345678901234, event_id=98765432109876543210)).encode())
    assert (event.provider_message_id, event.provider_event_id) == ("123456789012345678901234", "98765432109876543210")


@pytest.mark.parametrize("body", [b'"x"', b"1", b"null", b"\x80", b"{", b"[" * 40 + b"]" * 40])
def test_an_unusable_body_is_a_bad_payload(body: bytes) -> None:
    with pytest.raises(BadPayload):
        PROVIDER.parse(WebhookRequest("https://tidings.example/webhooks/1", {}, body))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
DATA_FIELDS = ["recipient", "email", "message_id", "event_id", "bounce_class", "url", "reason", "smtp_code",
               "user_agent", "ip", "machine_open", "metadata"]  # fmt: skip
TEXTS = st.sampled_from(
    ["bounced", "email.clicked", "a@b.c", "hard", "2026-01-31T12:00:00.5+01:00", "0001-01-01T00:00+01:00"]
)
DATA = st.dictionaries(st.sampled_from(DATA_FIELDS), JSON | TEXTS)
ITEM = st.fixed_dictionaries({}, optional={"type": JSON | TEXTS, "timestamp": JSON | TEXTS, "data": DATA})
HEADER_NAMES = st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature", "svix-id", "svix-timestamp",
                                "svix-signature"])  # fmt: skip
HEADER_VALUES = st.text(max_size=40) | st.sampled_from([str(int(NOW.timestamp())), "v1,AAAA", "v1,=", "v1,"])


def assert_only_rejections(body: bytes, headers: dict[str, str]) -> None:
    request = WebhookRequest("https://tidings.example/webhooks/1", headers, body)
    with contextlib.suppress(WebhookRejected):
        parsed = PROVIDER.parse(request)
        assert isinstance(parsed, list)
        for found in parsed:
            if isinstance(found, NormalizedEvent):
                found.keyed()
    with contextlib.suppress(WebhookRejected):
        PROVIDER.verify(request, ROTATING, CTX)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.dictionaries(HEADER_NAMES, HEADER_VALUES))
def test_arbitrary_bytes_and_headers_raise_only_webhook_rejections(body: bytes, headers: dict[str, str]) -> None:
    assert_only_rejections(body, headers)


@settings(max_examples=150, deadline=None)
@given(JSON | ITEM | st.lists(ITEM | JSON, max_size=4), st.dictionaries(HEADER_NAMES, HEADER_VALUES))
def test_arbitrary_json_raises_only_webhook_rejections(value: Any, headers: dict[str, str]) -> None:
    assert_only_rejections(json.dumps(value).encode(), headers)
