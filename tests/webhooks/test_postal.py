"""Postal: RSA signatures over the raw body (SHA-256 preferred, SHA-1 legacy) and every webhook event.

Fixtures are the payload examples of Postal's webhook documentation (docs.postalserver.io/developer/webhooks)
and of django-anymail's Postal tests, in Postal's ``{"event", "timestamp", "uuid", "payload"}`` envelope.
The tests sign the fixture bytes exactly as Postal does, with a throwaway RSA key.
"""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.email_event import BounceClass, NormalizedEvent, Quarantined
from domain.email_event import EmailEventType as T
from interfaces.webhooks.provider import BadPayload, VerificationFailed, VerifyContext, WebhookRejected, WebhookRequest
from interfaces.webhooks.providers.postal import PROVIDER, PostalSettings
from interfaces.webhooks.registry import get_provider

FIXTURES = Path(__file__).parent / "fixtures" / "postal"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
CTX = VerifyContext(now=NOW)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def shown_by_postal(key: rsa.RSAPrivateKey) -> str:
    """The public key the way Postal's web interface shows it: base64 DER, no PEM armour."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


SETTINGS = PostalSettings(public_key=shown_by_postal(KEY))


def signature(body: bytes, algorithm: hashes.HashAlgorithm, key: rsa.RSAPrivateKey = KEY) -> str:
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), algorithm)).decode()


def postal_headers(body: bytes, key: rsa.RSAPrivateKey = KEY) -> dict[str, str]:
    """Both headers, as Postal sends them (header names lower-cased as the route hands them over)."""
    return {
        "content-type": "application/json",
        "x-postal-signature-256": signature(body, hashes.SHA256(), key),
        "x-postal-signature": signature(body, hashes.SHA1(), key),
        "x-postal-signature-kid": "a" * 64,
    }


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def request(body: bytes | dict[str, Any], headers: dict[str, str] | None = None) -> WebhookRequest:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = postal_headers(data) if headers is None else headers
    return WebhookRequest("https://tidings.example/webhooks/postal", headers, data)


def event(body: bytes | dict[str, Any]) -> NormalizedEvent:
    [item] = PROVIDER.parse(request(body))
    assert isinstance(item, NormalizedEvent), item
    return item


def fixture(name: str) -> dict[str, Any]:
    return json.loads(raw(name))


# --- registry and settings ---


def test_the_registry_finds_the_provider_by_name() -> None:
    assert get_provider("postal") is PROVIDER
    assert PROVIDER.CONTENT_TYPES == ("application/json",)


def test_settings_accept_the_key_as_postal_shows_it_or_as_pem() -> None:
    pem = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for text in (shown_by_postal(KEY), pem.decode()):
        settings_ = msgspec.convert({"public_key": text}, PostalSettings)
        assert PROVIDER.verify(request(raw("message_sent.json")), settings_, CTX).method == "postal-rsa-sha256"


def test_settings_refuse_a_key_that_is_not_an_rsa_public_key() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    ec_der = ec_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    for text in ("not base64!", base64.b64encode(b"garbage").decode(), base64.b64encode(ec_der).decode()):
        with pytest.raises(msgspec.ValidationError, match="public_key"):
            msgspec.convert({"public_key": text}, PostalSettings)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"public_key": shown_by_postal(KEY), "secret": "x"}, PostalSettings)


# --- verification ---


def test_the_sha256_signature_verifies() -> None:
    verified = PROVIDER.verify(request(raw("message_sent.json")), SETTINGS, CTX)
    assert (verified.method, verified.replay_key) == ("postal-rsa-sha256", None)


def test_a_legacy_sha1_signature_alone_verifies() -> None:
    body = raw("message_sent.json")
    headers = {"x-postal-signature": signature(body, hashes.SHA1())}
    assert PROVIDER.verify(request(body, headers), SETTINGS, CTX).method == "postal-rsa-sha1"


def test_with_require_sha256_a_sha1_signature_alone_is_refused_and_sha256_still_verifies() -> None:
    strict = msgspec.structs.replace(SETTINGS, require_sha256=True)
    body = raw("message_sent.json")
    with pytest.raises(VerificationFailed, match="SHA-1 signature alone is refused"):
        PROVIDER.verify(request(body, {"x-postal-signature": signature(body, hashes.SHA1())}), strict, CTX)
    assert PROVIDER.verify(request(body), strict, CTX).method == "postal-rsa-sha256"


def test_a_wrong_sha256_signature_fails_even_when_the_sha1_one_is_right() -> None:
    body = raw("message_sent.json")
    headers = {**postal_headers(body), "x-postal-signature-256": signature(b"other", hashes.SHA256())}
    with pytest.raises(VerificationFailed, match="x-postal-signature-256"):
        PROVIDER.verify(request(body, headers), SETTINGS, CTX)


def test_a_tampered_body_fails_verification() -> None:
    body = raw("message_sent.json")
    tampered = body.replace(b"test@example.com", b"victim@example.com")
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(request(tampered, postal_headers(body)), SETTINGS, CTX)


def test_a_body_signed_by_another_key_fails_verification() -> None:
    body = raw("message_sent.json")
    with pytest.raises(VerificationFailed, match="does not match"):
        PROVIDER.verify(request(body, postal_headers(body, OTHER_KEY)), SETTINGS, CTX)


@pytest.mark.parametrize("headers", [{}, {"x-postal-signature-kid": "a" * 64}, {"authorization": "Bearer x"}])
def test_missing_signature_headers_fail_verification(headers: dict[str, str]) -> None:
    with pytest.raises(VerificationFailed, match="missing"):
        PROVIDER.verify(request(raw("message_sent.json"), headers), SETTINGS, CTX)


@pytest.mark.parametrize("value", ["", "garbage", "aW52YWxpZA==", "é" * 8])
def test_a_malformed_signature_fails_verification(value: str) -> None:
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(request(raw("message_sent.json"), {"x-postal-signature-256": value}), SETTINGS, CTX)


def test_an_old_body_still_verifies_because_postal_signs_no_freshness() -> None:
    # Postal retries resend the original body; the uuid, not a time window, makes replays harmless.
    body = raw("message_delayed.json")  # timestamp from 2020
    PROVIDER.verify(request(body), SETTINGS, VerifyContext(now=NOW))


def test_each_connection_key_verifies_only_its_own_signatures() -> None:
    # Postal has one signing key; a rotation is a second active webhook setting, tried in turn by the route.
    body = raw("message_sent.json")
    new = PostalSettings(public_key=shown_by_postal(OTHER_KEY))
    PROVIDER.verify(request(body, postal_headers(body, OTHER_KEY)), new, CTX)
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(request(body, postal_headers(body, OTHER_KEY)), SETTINGS, CTX)


# --- parsing ---


@pytest.mark.parametrize(
    ("name", "kind", "bounce_class", "recipient"),
    [
        ("message_sent.json", T.DELIVERED, None, "test@example.com"),
        ("message_delayed.json", T.DEFERRED, None, "deferred@example.com"),
        ("message_delivery_failed.json", T.BOUNCED, BounceClass.HARD, "failed@example.com"),
        ("message_held.json", T.REJECTED, None, "suppressed@example.com"),
        ("message_bounced.json", T.BOUNCED, BounceClass.UNDETERMINED, "test@example.com"),
        ("message_link_clicked.json", T.CLICKED, None, "test@example.com"),
        ("message_loaded.json", T.OPENED, None, "test@example.com"),
        ("domain_dns_error.json", T.UNKNOWN, None, ""),
        ("send_limit_approaching.json", T.UNKNOWN, None, ""),
        ("send_limit_exceeded.json", T.UNKNOWN, None, ""),
    ],
)
def test_every_postal_event_maps_to_its_normalized_type(
    name: str, kind: T, bounce_class: BounceClass | None, recipient: str
) -> None:
    found = event(raw(name))
    body = fixture(name)
    assert (found.type, found.bounce_class, found.recipient) == (kind, bounce_class, recipient)
    assert (found.provider_event_type, found.provider_event_id) == (body["event"], body["uuid"])
    assert found.raw == body


def test_a_delivery_keeps_its_ids_time_reason_smtp_code_and_tag() -> None:
    found = event(raw("message_sent.json"))
    assert found.provider_message_id == "12345"
    assert found.provider_event_id == "820b47a4-4dfd-42e4-ae6a-1e5bed5a33fd"
    # payload.timestamp (the delivery attempt), sub-second kept.
    assert found.occurred_at == datetime.fromtimestamp(1477945177.12994, UTC)
    assert found.occurred_at.microsecond == 129940
    assert found.smtp_code == "250"
    assert found.reason is not None and found.reason.startswith("Message sent by SMTP to aspmx.l.google.com")
    assert found.reason.endswith("250 2.0.0 OK 1477944899 ly2si31746747wjb.95 - gsmtp")
    assert found.metadata == {"tag": "welcome"}


def test_a_hard_failure_keeps_the_remote_server_reply() -> None:
    found = event(raw("message_delivery_failed.json"))
    assert (found.smtp_code, found.metadata, found.provider_message_id) == ("550", {}, "1571")
    assert found.reason == "Could not deliver; 550 5.1.1 The email account that you tried to reach does not exist"


def test_a_click_and_an_open_keep_url_ip_and_user_agent_and_take_the_request_time() -> None:
    click, load = event(raw("message_link_clicked.json")), event(raw("message_loaded.json"))
    assert click.click_url == "https://atech.media"
    for found in (click, load):
        assert found.ip == "185.22.208.2"
        assert found.user_agent is not None and found.user_agent.startswith("Mozilla/5.0 (Macintosh")
        assert found.machine_open is None
    assert click.occurred_at == datetime.fromtimestamp(1477945200.5, UTC)


def test_a_bounce_report_concerns_the_original_message() -> None:
    found = event(raw("message_bounced.json"))
    assert (found.recipient, found.provider_message_id) == ("test@example.com", "12345")


def test_events_about_incoming_mail_are_kept_as_unknown() -> None:
    # Postal also reports delivering *received* mail to an HTTP endpoint; that must not bounce anyone.
    body = fixture("message_delivery_failed.json")
    body["payload"]["message"].update(direction="incoming", to="incoming@example.com")
    found = event(body)
    assert (found.type, found.bounce_class, found.provider_event_type) == (T.UNKNOWN, None, "MessageDeliveryFailed")


def test_an_unknown_event_name_is_kept_as_unknown() -> None:
    body = {**fixture("message_sent.json"), "event": "MessageTeleported"}
    found = event(body)
    assert (found.type, found.provider_event_type, found.recipient) == (
        T.UNKNOWN,
        "MessageTeleported",
        "test@example.com",
    )


def test_the_same_delivery_retried_gives_equal_dedup_keys_and_other_deliveries_differ() -> None:
    first, retry = event(raw("message_sent.json")), event(raw("message_sent.json"))
    assert first.dedup_key() == retry.dedup_key() == "id:820b47a4-4dfd-42e4-ae6a-1e5bed5a33fd:test@example.com"
    other = event({**fixture("message_sent.json"), "uuid": "11111111-2222-4333-8444-555555555555"})
    assert other.dedup_key() != first.dedup_key()
    no_uuid = {k: v for k, v in fixture("message_sent.json").items() if k != "uuid"}
    assert event(no_uuid).dedup_key() == event(no_uuid).dedup_key() != first.dedup_key()


def test_one_request_carries_one_event() -> None:
    # Postal never batches: a body is one event, so the "batch" is always of one.
    assert len(PROVIDER.parse(request(raw("message_sent.json")))) == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"event": 7}, "event"),
        ({"payload": []}, "payload"),
        ({"timestamp": "soon", "payload": {"message": {"to": "a@example.com"}}}, "timestamp"),
        ({"timestamp": 1e300, "payload": {"message": {"to": "a@example.com"}}}, "timestamp"),
        ({"payload": {"timestamp": 1.5, "message": {"to": "nobody"}}}, "recipient"),
        ({"payload": {"timestamp": 1.5, "status": "Sent"}}, "recipient"),
    ],
)
def test_an_unusable_event_is_quarantined_rather_than_rejected(change: dict[str, Any], reason: str) -> None:
    body = {**fixture("message_sent.json"), **change}
    [item] = PROVIDER.parse(request(body))
    assert isinstance(item, Quarantined) and reason in item.reason and item.item == body


def test_a_body_that_is_not_an_object_is_a_bad_payload() -> None:
    for body in (b"", b"\xff\xfe", b"[]", b"42", b'"MessageSent"'):
        with pytest.raises(BadPayload):
            PROVIDER.parse(request(body))


def test_big_integer_message_ids_stay_exact() -> None:
    body = json.dumps(fixture("message_sent.json")).replace('"id": 12345', f'"id": {2**64 + 1}')
    assert event(body.encode()).provider_message_id == "18446744073709551617"


# --- robustness ---

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
numbers = st.floats(allow_nan=False, allow_infinity=False) | st.integers()
messages = st.fixed_dictionaries(
    {}, optional={"to": st.sampled_from(["a@example.com", "nope"]) | json_values, "id": json_values,
                  "direction": st.sampled_from(["incoming", "outgoing"]) | json_values, "tag": json_values},
)  # fmt: skip
postal_bodies = st.fixed_dictionaries(
    {"event": st.sampled_from(["MessageSent", "MessageBounced", "MessageLinkClicked", "DomainDNSError", "X"])
              | json_values},
    optional={"timestamp": numbers | json_values, "uuid": json_values,
              "payload": st.fixed_dictionaries({}, optional={
                  "message": messages | json_values, "original_message": messages, "timestamp": numbers | json_values,
                  "output": json_values, "details": json_values, "url": json_values, "ip_address": json_values})
              | json_values},
)  # fmt: skip
bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | postal_bodies.map(lambda v: json.dumps(v).encode())
)
ROBUST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
header_values = st.text(max_size=40) | st.binary(max_size=256).map(lambda b: base64.b64encode(b).decode())


@ROBUST
@given(body=bodies, sha256=st.none() | header_values, sha1=st.none() | header_values)
def test_verify_and_parse_raise_nothing_but_rejections_for_any_input(
    body: bytes, sha256: str | None, sha1: str | None
) -> None:
    headers = {k: v for k, v in (("x-postal-signature-256", sha256), ("x-postal-signature", sha1)) if v is not None}
    req = WebhookRequest("https://x", headers, body)
    with contextlib.suppress(WebhookRejected):
        PROVIDER.verify(req, SETTINGS, CTX)
    with contextlib.suppress(WebhookRejected):
        PROVIDER.parse(req)


@ROBUST
@given(body=postal_bodies)
def test_any_signed_postal_body_parses_to_one_event_or_quarantine(body: dict[str, Any]) -> None:
    req = request(body)
    PROVIDER.verify(req, SETTINGS, CTX)
    [item] = PROVIDER.parse(req)
    assert isinstance(item, NormalizedEvent | Quarantined)
    if isinstance(item, NormalizedEvent):
        assert item.recipient == item.recipient.lower()
        assert item.occurred_at.tzinfo is not None
        item.keyed()
