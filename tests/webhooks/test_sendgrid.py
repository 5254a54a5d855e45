"""SendGrid adapter: ECDSA P-256 over timestamp + raw body (and/or Basic), batches of flattened events."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.email_event import BounceClass, EmailEventType, NormalizedEvent, Quarantined
from interfaces.webhooks.provider import (
    BadPayload,
    VerificationFailed,
    VerifyContext,
    WebhookRejected,
    WebhookRequest,
)
from interfaces.webhooks.providers._common import BasicAuth
from interfaces.webhooks.providers.sendgrid import PROVIDER, SendGridSettings
from interfaces.webhooks.route import _verify_and_parse

FIXTURES = Path(__file__).parent / "fixtures" / "sendgrid"
SIGNATURE = "x-twilio-email-event-webhook-signature"
TIMESTAMP = "x-twilio-email-event-webhook-timestamp"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "https://tidings.example/webhooks/3f1c"
KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
CREDS = BasicAuth(username="sendgrid", password="s3cret")

# Published vector from the official SDK (sendgrid-python test/unit/test_eventwebhook.py).
SDK_PUBLIC_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfS"
    "mpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
)
SDK_OTHER_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd"
    "4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA=="
)
SDK_SIGNATURE = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
SDK_OTHER_SIGNATURE = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0="
SDK_TIMESTAMP = "1600112502"
SDK_EVENTS = [
    {
        "email": "hello@world.com",
        "event": "dropped",
        "reason": "Bounced Address",
        "sg_event_id": "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
        "sg_message_id": "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
        "smtp-id": "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>",
        "timestamp": 1600112492,
    }
]
# The SDK builds the signed body like this, "Be sure to include the trailing carriage return and newline!"
SDK_BODY = (json.dumps(SDK_EVENTS, sort_keys=True, separators=(",", ":")) + "\r\n").encode()
SDK_NOW = datetime.fromtimestamp(int(SDK_TIMESTAMP) + 10, UTC)


def der_b64(key: ec.EllipticCurvePrivateKey) -> str:
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(public).decode()


def fixture_body() -> bytes:
    return (FIXTURES / "events.json").read_bytes()


def sign(body: bytes, key: ec.EllipticCurvePrivateKey = KEY, at: datetime = NOW, **headers: str) -> WebhookRequest:
    timestamp = str(int(at.timestamp()))
    signature = base64.b64encode(key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    return WebhookRequest(URL, {SIGNATURE: signature, TIMESTAMP: timestamp, **headers}, body)


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def keyed(key: ec.EllipticCurvePrivateKey = KEY, **extra: Any) -> SendGridSettings:
    return SendGridSettings(public_key=der_b64(key), **extra)


def events(body: bytes) -> list[NormalizedEvent]:
    parsed = PROVIDER.parse(WebhookRequest(URL, {}, body))
    assert isinstance(parsed, list)
    return [p for p in parsed if isinstance(p, NormalizedEvent)]


def test_the_published_sdk_vector_verifies() -> None:
    request = WebhookRequest(URL, {SIGNATURE: SDK_SIGNATURE, TIMESTAMP: SDK_TIMESTAMP}, SDK_BODY)

    verified = PROVIDER.verify(request, SendGridSettings(public_key=SDK_PUBLIC_KEY), VerifyContext(now=SDK_NOW))

    assert verified.method == "ecdsa-p256"
    [event] = events(SDK_BODY)
    assert (event.type, event.reason) == (EmailEventType.REJECTED, "Bounced Address")


@pytest.mark.parametrize(
    ("public_key", "signature", "body"),
    [
        (SDK_OTHER_KEY, SDK_SIGNATURE, SDK_BODY),
        (SDK_PUBLIC_KEY, SDK_OTHER_SIGNATURE, SDK_BODY),
        (SDK_PUBLIC_KEY, SDK_SIGNATURE, b"payload"),
        (SDK_PUBLIC_KEY, SDK_SIGNATURE, SDK_BODY.rstrip()),
    ],
    ids=["other-key", "other-signature", "other-payload", "body-without-trailing-crlf"],
)
def test_the_published_sdk_vector_fails_when_anything_differs(public_key: str, signature: str, body: bytes) -> None:
    request = WebhookRequest(URL, {SIGNATURE: signature, TIMESTAMP: SDK_TIMESTAMP}, body)

    with pytest.raises(VerificationFailed, match="does not match"):
        PROVIDER.verify(request, SendGridSettings(public_key=public_key), VerifyContext(now=SDK_NOW))


def test_every_documented_event_type_maps_to_its_normalized_type() -> None:
    parsed = PROVIDER.parse(sign(fixture_body()))

    assert isinstance(parsed, list)
    mapped = [(p.provider_event_type, p.type, p.bounce_class) for p in parsed if isinstance(p, NormalizedEvent)]
    assert mapped == [
        ("processed", EmailEventType.ACCEPTED, None),
        ("deferred", EmailEventType.DEFERRED, None),
        ("delivered", EmailEventType.DELIVERED, None),
        ("open", EmailEventType.OPENED, None),
        ("open", EmailEventType.OPENED, None),
        ("click", EmailEventType.CLICKED, None),
        ("bounce", EmailEventType.BOUNCED, BounceClass.HARD),
        ("bounce", EmailEventType.BOUNCED, BounceClass.SOFT),
        ("dropped", EmailEventType.REJECTED, None),
        ("spamreport", EmailEventType.COMPLAINED, None),
        ("unsubscribe", EmailEventType.UNSUBSCRIBED, None),
        ("group_unsubscribe", EmailEventType.UNSUBSCRIBED, None),
        ("group_resubscribe", EmailEventType.RESUBSCRIBED, None),
    ]
    # The account event names no recipient: kept for people, not normalized.
    [account] = [p for p in parsed if isinstance(p, Quarantined)]
    assert account.item["event"] == "account_status_change"
    assert "recipient" in account.reason


def test_a_batch_keeps_ids_times_and_details_of_each_event() -> None:
    processed, deferred, delivered, human_open, machine_open, click, bounce, *_ = events(fixture_body())

    assert processed.recipient == "example@test.com"
    assert processed.occurred_at == datetime(2017, 12, 15, 0, 59, 29, tzinfo=UTC)
    assert processed.provider_event_id == "rbtnWrG1DVDGGGFHFyun0A=="
    assert processed.provider_message_id.startswith("14c5d75ce93.dfd.64b469.filter0001")  # type: ignore[union-attr]
    assert deferred.reason == "400 try again later"
    assert delivered.ip is None  # our sending IP, not the recipient's
    assert (human_open.machine_open, machine_open.machine_open) == (False, True)
    assert machine_open.ip == "17.58.0.1"
    assert (click.click_url, click.ip) == ("http://www.sendgrid.com/", "255.255.255.255")
    assert click.user_agent.startswith("Mozilla/4.0")  # type: ignore[union-attr]
    assert (bounce.reason, bounce.smtp_code) == ("500 unknown recipient", "5.0.0")


def test_custom_args_become_metadata_with_big_integers_exact() -> None:
    processed, deferred, *_ = events(fixture_body())

    assert processed.metadata == {"campaign_id": "c-42", "contact_id": "12345678901234567890", "category": "cat facts"}
    assert deferred.metadata == {"category": "cat facts"}


def test_a_bounce_without_a_type_is_undetermined_and_async_bounces_fall_back_to_smtp_id() -> None:
    item = {"email": "a@b.example", "timestamp": 1, "event": "bounce", "smtp-id": "<x@ismtpd>", "reason": "gone"}

    [event] = events(json.dumps([item]).encode())

    assert (event.bounce_class, event.provider_message_id) == (BounceClass.UNDETERMINED, "<x@ismtpd>")


def test_an_unknown_event_name_is_kept_as_unknown() -> None:
    item = {"email": "a@b.example", "timestamp": 1700000000.25, "event": "teleported", "sg_event_id": "e1"}

    [event] = events(json.dumps([item]).encode())

    assert (event.type, event.provider_event_type) == (EmailEventType.UNKNOWN, "teleported")
    assert event.occurred_at == datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=UTC)


def test_duplicate_events_in_a_batch_have_equal_dedup_keys() -> None:
    first = json.loads(fixture_body())[0]
    anonymous = {k: v for k, v in first.items() if k != "sg_event_id"}

    a, b, c, d = events(json.dumps([first, first, anonymous, anonymous]).encode())

    assert a.dedup_key() == b.dedup_key() == "id:rbtnWrG1DVDGGGFHFyun0A==:example@test.com"
    assert c.dedup_key() == d.dedup_key() != a.dedup_key()
    assert c.dedup_key().startswith("sha256:")


def test_bad_items_are_quarantined_while_the_rest_is_parsed() -> None:
    good = {"email": "ok@b.example", "timestamp": 1, "event": "delivered"}
    bad = [
        "not an object",
        {"timestamp": 1, "event": "delivered"},
        {"email": "x@b.example", "event": "delivered", "timestamp": "yesterday"},
        {"email": "x@b.example", "event": "delivered", "timestamp": True},
        {"email": "x@b.example", "timestamp": 1},
    ]

    parsed = PROVIDER.parse(WebhookRequest(URL, {}, json.dumps([*bad, good]).encode()))

    assert isinstance(parsed, list)
    assert [p.item for p in parsed if isinstance(p, Quarantined)] == bad
    assert all(p.reason for p in parsed if isinstance(p, Quarantined))
    assert [p.recipient for p in parsed if isinstance(p, NormalizedEvent)] == ["ok@b.example"]


@pytest.mark.parametrize("body", [b'{"event": "open"}', b"", b"[", b'"[]"'])
def test_a_body_that_is_not_a_json_array_is_a_bad_payload(body: bytes) -> None:
    with pytest.raises(BadPayload):
        PROVIDER.parse(WebhookRequest(URL, {}, body))


def test_a_tampered_body_fails_verification() -> None:
    request = sign(fixture_body())
    tampered = WebhookRequest(URL, request.headers, request.body.replace(b"cat facts", b"dog facts"))

    with pytest.raises(VerificationFailed, match="does not match"):
        PROVIDER.verify(tampered, keyed(), VerifyContext(now=NOW))


def test_a_signature_from_another_key_fails() -> None:
    with pytest.raises(VerificationFailed, match="does not match"):
        PROVIDER.verify(sign(fixture_body(), key=OTHER_KEY), keyed(), VerifyContext(now=NOW))


@pytest.mark.parametrize("dropped", [[SIGNATURE], [TIMESTAMP], [SIGNATURE, TIMESTAMP]])
def test_missing_signature_headers_fail(dropped: list[str]) -> None:
    request = sign(fixture_body())
    headers = {k: v for k, v in request.headers.items() if k not in dropped}

    with pytest.raises(VerificationFailed, match="missing"):
        PROVIDER.verify(WebhookRequest(URL, headers, request.body), keyed(), VerifyContext(now=NOW))


@pytest.mark.parametrize(
    ("offset", "message"),
    [(timedelta(hours=-48, seconds=-1), "old"), (timedelta(minutes=5, seconds=1), "future")],
)
def test_stale_and_future_timestamps_fail(offset: timedelta, message: str) -> None:
    with pytest.raises(VerificationFailed, match=message):
        PROVIDER.verify(sign(fixture_body(), at=NOW + offset), keyed(), VerifyContext(now=NOW))


@pytest.mark.parametrize("offset", [timedelta(hours=-47), timedelta(minutes=4)])
def test_timestamps_inside_the_window_verify(offset: timedelta) -> None:
    verified = PROVIDER.verify(sign(fixture_body(), at=NOW + offset), keyed(), VerifyContext(now=NOW))

    assert verified.replay_ttl >= 48 * 3600


def test_a_timestamp_that_is_not_unix_seconds_fails() -> None:
    request = sign(fixture_body())
    headers = {**request.headers, TIMESTAMP: " 1e9"}

    with pytest.raises(VerificationFailed, match="unix seconds"):
        PROVIDER.verify(WebhookRequest(URL, headers, request.body), keyed(), VerifyContext(now=NOW))


def test_the_replay_key_is_equal_for_the_same_delivery_and_differs_between_deliveries() -> None:
    request = sign(fixture_body())
    again = PROVIDER.verify(request, keyed(), VerifyContext(now=NOW + timedelta(hours=1)))
    first = PROVIDER.verify(request, keyed(), VerifyContext(now=NOW))
    other = PROVIDER.verify(sign(fixture_body()), keyed(), VerifyContext(now=NOW))

    assert first.replay_key == again.replay_key
    assert first.replay_key != other.replay_key
    assert (first.replay_key or "").startswith("sendgrid:")


def test_a_signature_with_the_mirrored_s_is_the_same_delivery() -> None:
    request = sign(fixture_body())
    r, s = decode_dss_signature(base64.b64decode(request.headers[SIGNATURE]))
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    mirrored = base64.b64encode(encode_dss_signature(r, order - s)).decode()
    twin = WebhookRequest(URL, {**request.headers, SIGNATURE: mirrored}, request.body)

    original = PROVIDER.verify(request, keyed(), VerifyContext(now=NOW))
    replayed = PROVIDER.verify(twin, keyed(), VerifyContext(now=NOW))

    assert original.replay_key == replayed.replay_key


def test_a_rotated_key_and_the_previous_one_both_verify_during_the_overlap() -> None:
    both = [keyed(OTHER_KEY), keyed(KEY)]

    for key in (KEY, OTHER_KEY):
        verified, parsed = _verify_and_parse(PROVIDER, sign(fixture_body(), key=key), both, VerifyContext(now=NOW))
        assert verified.method == "ecdsa-p256"
        assert len(parsed) == 14
    third = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(VerificationFailed):
        _verify_and_parse(PROVIDER, sign(fixture_body(), key=third), both, VerifyContext(now=NOW))


def test_basic_auth_alone_verifies_the_credentials_without_a_replay_key() -> None:
    only_basic = SendGridSettings(basic_auth=CREDS)
    good = WebhookRequest(URL, {"authorization": basic("sendgrid", "s3cret")}, fixture_body())
    wrong = WebhookRequest(URL, {"authorization": basic("sendgrid", "nope")}, fixture_body())

    verified = PROVIDER.verify(good, only_basic, VerifyContext(now=NOW))

    assert (verified.method, verified.replay_key) == ("basic", None)
    with pytest.raises(VerificationFailed, match="wrong"):
        PROVIDER.verify(wrong, only_basic, VerifyContext(now=NOW))
    with pytest.raises(VerificationFailed, match="missing"):
        PROVIDER.verify(WebhookRequest(URL, {}, fixture_body()), only_basic, VerifyContext(now=NOW))


def test_with_a_key_and_credentials_both_must_pass() -> None:
    both = keyed(basic_auth=CREDS)
    signed_only = sign(fixture_body())
    signed_with_basic = sign(fixture_body(), authorization=basic("sendgrid", "s3cret"))
    basic_only = WebhookRequest(URL, {"authorization": basic("sendgrid", "s3cret")}, fixture_body())

    assert PROVIDER.verify(signed_with_basic, both, VerifyContext(now=NOW)).method == "ecdsa-p256+basic"
    with pytest.raises(VerificationFailed, match="Basic"):
        PROVIDER.verify(signed_only, both, VerifyContext(now=NOW))
    with pytest.raises(VerificationFailed, match="missing"):
        PROVIDER.verify(basic_only, both, VerifyContext(now=NOW))


@pytest.mark.parametrize(
    "webhook",
    [
        {},
        {"public_key": "not base64!"},
        {"public_key": base64.b64encode(b"\x30\x03\x02\x01\x01").decode()},
        {"basic_auth": {"username": "u", "password": "p"}, "bearer_token": "t"},
    ],
    ids=["nothing", "not-base64", "not-a-key", "unknown-field"],
)
def test_settings_without_a_usable_credential_are_refused(webhook: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(webhook, PROVIDER.Settings)


def test_settings_accept_the_key_as_sendgrid_shows_it_or_with_pem_armour() -> None:
    pem = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    for public_key in (der_b64(KEY), pem.decode()):
        settings_ = msgspec.convert({"public_key": public_key}, PROVIDER.Settings)
        assert PROVIDER.verify(sign(fixture_body()), settings_, VerifyContext(now=NOW)).method == "ecdsa-p256"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
item_like = st.fixed_dictionaries(
    {},
    optional={
        "email": st.sampled_from(["a@b.example", "", "x"]) | json_values,
        "event": st.sampled_from(["bounce", "open", "click", "nope"]) | json_values,
        "timestamp": st.integers() | st.floats() | st.text(max_size=12) | json_values,
        "type": st.sampled_from(["bounce", "blocked"]) | json_values,
        "sg_machine_open": json_values,
        "sg_event_id": json_values,
        "custom": json_values,
    },
)
bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.lists(item_like | json_values, max_size=5).map(lambda v: json.dumps(v).encode())
)


@settings(max_examples=200, deadline=None)
@given(body=bodies)
def test_parse_raises_nothing_but_webhook_rejections(body: bytes) -> None:
    try:
        parsed = PROVIDER.parse(WebhookRequest(URL, {}, body))
    except WebhookRejected:
        return
    assert isinstance(parsed, list)


@settings(max_examples=200, deadline=None)
@given(
    body=bodies,
    signature=st.text(max_size=40) | st.binary(max_size=80).map(lambda b: base64.b64encode(b).decode()),
    timestamp=st.text(max_size=14) | st.integers(0, 2 * 10**9).map(str),
    authorization=st.text(max_size=30),
)
def test_verify_raises_nothing_but_webhook_rejections(
    body: bytes, signature: str, timestamp: str, authorization: str
) -> None:
    headers = {SIGNATURE: signature, TIMESTAMP: timestamp, "authorization": authorization}
    for settings_ in (keyed(), SendGridSettings(basic_auth=CREDS), keyed(basic_auth=CREDS)):
        try:
            PROVIDER.verify(WebhookRequest(URL, headers, body), settings_, VerifyContext(now=NOW))
        except WebhookRejected:
            continue
