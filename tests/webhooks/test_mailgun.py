"""Mailgun adapter: HMAC-SHA256 of timestamp + token inside the body, one event per request."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
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
from interfaces.webhooks.providers.mailgun import PROVIDER, MailgunSettings
from interfaces.webhooks.route import _verify_and_parse

FIXTURES = Path(__file__).parent / "fixtures" / "mailgun"
URL = "https://tidings.example/webhooks/9a2e"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = "key-" + "7d9e2c" * 6
SETTINGS = MailgunSettings(signing_key=KEY)


def fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.json").read_text()))


def mailgun_signature(key: str, timestamp: str, token: str) -> str:
    return hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()


def signed(payload: dict[str, Any], key: str = KEY, at: datetime = NOW, token: str | None = None) -> WebhookRequest:
    timestamp, token = str(int(at.timestamp())), token or secrets.token_hex(25)
    block = {"timestamp": timestamp, "token": token, "signature": mailgun_signature(key, timestamp, token)}
    body = json.dumps({**payload, "signature": block}).encode()
    return WebhookRequest(URL, {"content-type": "application/json"}, body)


def verify(request: WebhookRequest, settings_: MailgunSettings = SETTINGS, now: datetime = NOW) -> Any:
    return PROVIDER.verify(request, settings_, VerifyContext(now=now))


def event(payload: dict[str, Any]) -> NormalizedEvent:
    [parsed] = PROVIDER.parse(signed(payload))  # type: ignore[misc]
    assert isinstance(parsed, NormalizedEvent), parsed
    return parsed


@pytest.mark.parametrize(
    ("name", "kind", "bounce_class"),
    [
        ("accepted", EmailEventType.ACCEPTED, None),
        ("delivered", EmailEventType.DELIVERED, None),
        ("failed_temporary", EmailEventType.DEFERRED, None),
        ("failed_permanent", EmailEventType.BOUNCED, BounceClass.HARD),
        ("failed_suppress_bounce", EmailEventType.REJECTED, None),
        ("rejected", EmailEventType.REJECTED, None),
        ("opened", EmailEventType.OPENED, None),
        ("clicked", EmailEventType.CLICKED, None),
        ("unsubscribed", EmailEventType.UNSUBSCRIBED, None),
        ("complained", EmailEventType.COMPLAINED, None),
    ],
)
def test_every_documented_event_maps_to_its_normalized_type(
    name: str, kind: EmailEventType, bounce_class: BounceClass | None
) -> None:
    request = signed(fixture(name))

    assert verify(request).method == "hmac-sha256"
    [parsed] = PROVIDER.parse(request)  # type: ignore[misc]
    assert isinstance(parsed, NormalizedEvent)
    assert (parsed.type, parsed.bounce_class) == (kind, bounce_class)
    assert parsed.recipient == "alice@example.com"
    assert parsed.provider_message_id == "20130503182626.18666.16540@sandbox.mailgun.org"


def test_a_failed_event_without_severity_is_an_undetermined_bounce() -> None:
    payload = fixture("failed_permanent")
    del payload["event-data"]["severity"]

    assert event(payload).bounce_class == BounceClass.UNDETERMINED


def test_delivery_details_are_kept() -> None:
    bounce = event(fixture("failed_permanent"))
    click = event(fixture("clicked"))

    assert bounce.occurred_at == datetime(2018, 3, 16, 20, 46, 35, 375624, tzinfo=UTC)
    assert bounce.provider_event_id == "G9Bn5sl1TC6nu79C8C0bwg"
    assert (bounce.smtp_code, bounce.reason) == (
        "550",
        "5.1.1 The email account that you tried to reach does not exist.",
    )
    assert event(fixture("failed_suppress_bounce")).reason == "Not delivering to previously bounced address"
    assert event(fixture("rejected")).reason == "Sandbox subdomains are for test purposes only."
    assert (click.click_url, click.ip) == ("https://example.com/welcome?utm_source=mailgun", "50.56.129.169")
    assert click.user_agent == "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.31"


def test_user_variables_and_tags_become_metadata_with_big_integers_exact() -> None:
    assert event(fixture("opened")).metadata == {
        "my_var_1": "Mailgun Variable #1",
        "my-var-2": "awesome",
        "contact_id": "12345678901234567890",
        "tags": '["my_tag_1","my_tag_2"]',
    }


def test_an_unknown_event_name_is_kept_as_unknown() -> None:
    payload = fixture("delivered")
    payload["event-data"]["event"] = "stored"

    parsed = event(payload)

    assert (parsed.type, parsed.provider_event_type) == (EmailEventType.UNKNOWN, "stored")


def test_the_same_event_redelivered_with_a_new_token_has_the_same_dedup_key() -> None:
    first = event(fixture("delivered"))
    again = event(fixture("delivered"))

    assert first.dedup_key() == again.dedup_key() == "id:CPgfbmQMTCKtHW6uIWtuVe:alice@example.com"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"event": None}, "no `event` name"),
        ({"recipient": "nobody"}, "no recipient"),
        ({"recipient": None, "message": {"headers": {"to": "a@x.example, b@x.example"}}}, "no recipient"),
        ({"timestamp": "soon"}, "timestamp"),
        ({"timestamp": 1e300}, "timestamp"),
    ],
)
def test_an_event_that_cannot_be_normalized_is_quarantined(change: dict[str, Any], reason: str) -> None:
    payload = fixture("delivered")
    payload["event-data"].update(change)

    [parsed] = PROVIDER.parse(signed(payload))  # type: ignore[misc]

    assert isinstance(parsed, Quarantined)
    assert reason in parsed.reason
    assert parsed.item == payload["event-data"]


@pytest.mark.parametrize("body", [b"[]", b'{"signature": {}}', b'{"event-data": []}', b"{"])
def test_a_body_without_an_event_data_object_is_a_bad_payload(body: bytes) -> None:
    with pytest.raises(BadPayload):
        PROVIDER.parse(WebhookRequest(URL, {}, body))


def test_a_tampered_token_or_timestamp_fails_verification() -> None:
    # Only timestamp + token are signed: Mailgun's scheme leaves event-data to the replay guard.
    request = signed(fixture("delivered"), at=NOW - timedelta(seconds=10))
    block = json.loads(request.body)["signature"]
    later = str(int(block["timestamp"]) + 1)

    for tampered in (
        request.body.replace(b'"token": "', b'"token": "x'),
        request.body.replace(block["timestamp"].encode(), later.encode()),
    ):
        with pytest.raises(VerificationFailed, match="does not match"):
            verify(WebhookRequest(URL, request.headers, tampered))


def test_a_signature_made_with_another_key_fails() -> None:
    with pytest.raises(VerificationFailed, match="does not match"):
        verify(signed(fixture("delivered"), key="key-someone-else"))


def test_the_api_key_is_not_the_signing_key() -> None:
    with pytest.raises(VerificationFailed, match="does not match"):
        verify(signed(fixture("delivered")), MailgunSettings(signing_key="api-key-not-the-signing-key"))


@pytest.mark.parametrize(
    "body",
    [
        {"event-data": {"event": "delivered"}},
        {"signature": {"token": "t", "signature": "00"}, "event-data": {}},
        {"signature": {"timestamp": "1772366400", "signature": "00"}, "event-data": {}},
        {"signature": {"timestamp": "1772366400", "token": "t"}, "event-data": {}},
        {"signature": "t=1,v=00", "event-data": {}},
    ],
    ids=["no-block", "no-timestamp", "no-token", "no-signature", "block-not-an-object"],
)
def test_missing_credentials_fail(body: dict[str, Any]) -> None:
    with pytest.raises(VerificationFailed):
        verify(WebhookRequest(URL, {}, json.dumps(body).encode()))


def test_a_body_that_is_not_json_fails_verification_with_the_reason() -> None:
    with pytest.raises(VerificationFailed, match="not valid JSON"):
        verify(WebhookRequest(URL, {}, b"timestamp=1&token=t&signature=00"))


@pytest.mark.parametrize(
    ("offset", "message"),
    [(timedelta(hours=-48, seconds=-1), "old"), (timedelta(minutes=5, seconds=1), "future")],
)
def test_stale_and_future_timestamps_fail(offset: timedelta, message: str) -> None:
    with pytest.raises(VerificationFailed, match=message):
        verify(signed(fixture("delivered"), at=NOW + offset))


@pytest.mark.parametrize("offset", [timedelta(hours=-47), timedelta(minutes=4)])
def test_timestamps_inside_the_window_verify(offset: timedelta) -> None:
    assert verify(signed(fixture("delivered"), at=NOW + offset)).replay_ttl >= 48 * 3600


def test_the_replay_key_is_the_token_of_the_signed_request() -> None:
    request = signed(fixture("delivered"), token="a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0")

    first = verify(request)
    again = verify(request, now=NOW + timedelta(hours=2))
    other = verify(signed(fixture("delivered")))

    assert first.replay_key == again.replay_key == "mailgun:a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    assert other.replay_key != first.replay_key


def test_a_subaccount_parent_signature_verifies_with_the_primary_key() -> None:
    request = signed(fixture("delivered"), key="key-subaccount")
    body = json.loads(request.body)
    block = body["signature"]
    block["parent-signature"] = mailgun_signature(KEY, block["timestamp"], block["token"])

    assert verify(WebhookRequest(URL, {}, json.dumps(body).encode())).method == "hmac-sha256"


def test_a_rotated_key_and_the_previous_one_both_verify_during_the_overlap() -> None:
    both = [MailgunSettings(signing_key="key-new"), SETTINGS]

    for key in ("key-new", KEY):
        verified, [parsed] = _verify_and_parse(PROVIDER, signed(fixture("opened"), key=key), both, VerifyContext(NOW))
        assert verified.method == "hmac-sha256"
        assert isinstance(parsed, NormalizedEvent)
    with pytest.raises(VerificationFailed):
        _verify_and_parse(PROVIDER, signed(fixture("opened"), key="key-third"), both, VerifyContext(NOW))


@pytest.mark.parametrize("webhook", [{}, {"signing_key": ""}, {"signing_key": "k", "public_key": "x"}])
def test_settings_need_exactly_a_signing_key(webhook: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(webhook, PROVIDER.Settings)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
event_data = st.fixed_dictionaries(
    {},
    optional={
        "event": st.sampled_from(["failed", "delivered", "rejected", "x"]) | json_values,
        "recipient": st.sampled_from(["a@b.example", "x"]) | json_values,
        "timestamp": st.floats() | st.integers() | json_values,
        "severity": st.sampled_from(["temporary", "permanent"]) | json_values,
        "reason": st.sampled_from(["suppress-bounce", "bounce"]) | json_values,
        "message": st.fixed_dictionaries({"headers": st.fixed_dictionaries({"to": st.text(max_size=40)})})
        | json_values,
        "delivery-status": json_values,
        "user-variables": json_values,
        "tags": json_values,
        "client-info": json_values,
    },
)
signature_block = st.fixed_dictionaries(
    {},
    optional={
        "timestamp": st.integers(0, 2 * 10**9).map(str) | json_values,
        "token": st.text(max_size=50) | json_values,
        "signature": st.text(max_size=64) | json_values,
        "parent-signature": json_values,
    },
)
bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.fixed_dictionaries(
        {}, optional={"signature": signature_block | json_values, "event-data": event_data | json_values}
    ).map(lambda v: json.dumps(v).encode())
)


@settings(max_examples=300, deadline=None)
@given(body=bodies)
def test_parse_and_verify_raise_nothing_but_webhook_rejections(body: bytes) -> None:
    request = WebhookRequest(URL, {}, body)
    for step in (lambda: PROVIDER.parse(request), lambda: verify(request)):
        try:
            step()
        except WebhookRejected:
            continue
