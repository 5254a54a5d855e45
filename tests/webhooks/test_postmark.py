"""Postmark adapter: HTTP Basic credentials only, one record per request, RecordType/Type drive the mapping."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
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
from interfaces.webhooks.providers._common import BasicAuth
from interfaces.webhooks.providers.postmark import PROVIDER, PostmarkSettings
from interfaces.webhooks.route import _verify_and_parse

FIXTURES = Path(__file__).parent / "fixtures" / "postmark"
URL = "https://postmark:s3cret@tidings.example/webhooks/51b0"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SETTINGS = PostmarkSettings(basic_auth=BasicAuth(username="postmark", password="s3cret"))


def fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.json").read_text()))


def basic(username: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def request(record: Any, headers: dict[str, str] | None = None) -> WebhookRequest:
    body = record if isinstance(record, bytes) else json.dumps(record).encode()
    return WebhookRequest(URL, basic("postmark", "s3cret") if headers is None else headers, body)


def parse_one(record: Any) -> NormalizedEvent | Quarantined:
    parsed = PROVIDER.parse(request(record))
    assert isinstance(parsed, list)
    [item] = parsed
    return item


def event(record: Any) -> NormalizedEvent:
    parsed = parse_one(record)
    assert isinstance(parsed, NormalizedEvent), parsed
    return parsed


@pytest.mark.parametrize(
    ("name", "kind", "bounce_class", "label"),
    [
        ("delivery", EmailEventType.DELIVERED, None, "Delivery"),
        ("bounce", EmailEventType.BOUNCED, BounceClass.HARD, "Bounce.HardBounce"),
        ("spam_complaint", EmailEventType.COMPLAINED, None, "SpamComplaint"),
        ("open", EmailEventType.OPENED, None, "Open"),
        ("click", EmailEventType.CLICKED, None, "Click"),
        ("subscription_change_unsubscribe", EmailEventType.UNSUBSCRIBED, None, "SubscriptionChange"),
        ("subscription_change_hard_bounce", EmailEventType.SUPPRESSION_ADDED, None, "SubscriptionChange"),
        ("subscription_change_resubscribe", EmailEventType.RESUBSCRIBED, None, "SubscriptionChange"),
    ],
)
def test_every_documented_record_maps_to_its_normalized_type(
    name: str, kind: EmailEventType, bounce_class: BounceClass | None, label: str
) -> None:
    parsed = event(fixture(name))

    assert (parsed.type, parsed.bounce_class, parsed.provider_event_type) == (kind, bounce_class, label)


@pytest.mark.parametrize(
    ("bounce_type", "code", "kind", "bounce_class"),
    [
        ("HardBounce", 1, EmailEventType.BOUNCED, BounceClass.HARD),
        ("Transient", 2, EmailEventType.DEFERRED, None),
        ("Unsubscribe", 16, EmailEventType.UNSUBSCRIBED, None),
        ("Subscribe", 32, EmailEventType.UNKNOWN, None),
        ("AutoResponder", 64, EmailEventType.UNKNOWN, None),
        ("AddressChange", 128, EmailEventType.UNKNOWN, None),
        ("DnsError", 256, EmailEventType.DEFERRED, None),
        ("SpamNotification", 512, EmailEventType.BOUNCED, BounceClass.SOFT),
        ("OpenRelayTest", 1024, EmailEventType.UNKNOWN, None),
        ("Unknown", 2048, EmailEventType.BOUNCED, BounceClass.UNDETERMINED),
        ("SoftBounce", 4096, EmailEventType.BOUNCED, BounceClass.SOFT),
        ("VirusNotification", 8192, EmailEventType.BOUNCED, BounceClass.SOFT),
        ("ChallengeVerification", 16384, EmailEventType.UNKNOWN, None),
        ("BadEmailAddress", 100000, EmailEventType.REJECTED, None),
        ("SpamComplaint", 100001, EmailEventType.COMPLAINED, None),
        ("ManuallyDeactivated", 100002, EmailEventType.REJECTED, None),
        ("Unconfirmed", 100003, EmailEventType.REJECTED, None),
        ("Blocked", 100006, EmailEventType.BOUNCED, BounceClass.SOFT),
        ("SMTPApiError", 100007, EmailEventType.FAILED, None),
        ("InboundError", 100008, EmailEventType.UNKNOWN, None),
        ("DMARCPolicy", 100009, EmailEventType.BOUNCED, BounceClass.SOFT),
        ("TemplateRenderingFailed", 100010, EmailEventType.FAILED, None),
    ],
)
def test_every_bounce_type_maps_by_name_or_by_code(
    bounce_type: str, code: int, kind: EmailEventType, bounce_class: BounceClass | None
) -> None:
    by_name = event({**fixture("bounce"), "Type": bounce_type, "TypeCode": 0})
    by_code = event({**fixture("bounce"), "Type": None, "TypeCode": code})

    assert (by_name.type, by_name.bounce_class) == (by_code.type, by_code.bounce_class) == (kind, bounce_class)
    assert by_name.provider_event_type == by_code.provider_event_type == f"Bounce.{bounce_type}"


def test_a_bounce_of_an_unfamiliar_type_is_kept_as_unknown() -> None:
    parsed = event({**fixture("bounce"), "Type": "Carrier Pigeon", "TypeCode": 7})

    assert (parsed.type, parsed.provider_event_type) == (EmailEventType.UNKNOWN, "Bounce.Carrier Pigeon")


def test_record_details_are_kept() -> None:
    delivery, bounce, click = event(fixture("delivery")), event(fixture("bounce")), event(fixture("click"))

    assert delivery.recipient == "john@example.com"
    assert delivery.occurred_at == datetime(2019, 11, 5, 16, 33, 54, 907025, tzinfo=UTC)
    assert delivery.provider_message_id == "883953f4-6105-42a2-a16a-77a8eac79483"
    assert bounce.occurred_at == datetime(2014, 8, 1, 17, 28, 10, 273539, tzinfo=UTC)
    assert bounce.reason == "smtp;550 5.1.1 The email account that you tried to reach does not exist."
    assert (click.click_url, click.ip) == ("https://example.com", "188.2.95.4")
    assert click.user_agent.startswith("Mozilla/5.0 (Macintosh")  # type: ignore[union-attr]
    assert event(fixture("subscription_change_hard_bounce")).reason == "HardBounce"


def test_bounce_ids_beyond_two_to_the_53_stay_exact() -> None:
    parsed = event(fixture("bounce"))

    assert parsed.provider_event_id == "4323372036854775807"
    assert parsed.dedup_key() == "id:4323372036854775807:john@example.com"


def test_records_without_an_id_dedup_by_content() -> None:
    first, again = event(fixture("delivery")), event(fixture("delivery"))
    later = event({**fixture("delivery"), "DeliveredAt": "2019-11-05T16:33:55Z"})

    assert first.provider_event_id is None
    assert first.dedup_key() == again.dedup_key() != later.dedup_key()


def test_metadata_and_tag_become_metadata() -> None:
    parsed = event({**fixture("delivery"), "Metadata": {"contact": 9007199254740993, "campaign": "c-1"}})

    assert parsed.metadata == {"contact": "9007199254740993", "campaign": "c-1", "tag": "welcome-email"}


def test_an_unknown_record_type_is_kept_as_unknown() -> None:
    parsed = event({**fixture("open"), "RecordType": "Forward"})

    assert (parsed.type, parsed.provider_event_type) == (EmailEventType.UNKNOWN, "Forward")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"RecordType": None}, "no RecordType"),
        ({"Recipient": None}, "no recipient"),
        ({"Recipient": ["john@example.com"]}, "no recipient"),
        ({"DeliveredAt": "yesterday"}, "ISO 8601"),
        ({"DeliveredAt": "2019-11-05T16:33:54.9070259"}, "ISO 8601"),
        ({"DeliveredAt": None}, "ISO 8601"),
    ],
)
def test_a_record_that_cannot_be_normalized_is_quarantined(change: dict[str, Any], reason: str) -> None:
    record = {**fixture("delivery"), **change}

    parsed = parse_one(record)

    assert isinstance(parsed, Quarantined)
    assert reason in parsed.reason
    assert parsed.item == record


@pytest.mark.parametrize("body", [b"[]", b'"Delivery"', b"{", b"\xff"])
def test_a_body_that_is_not_one_json_object_is_a_bad_payload(body: bytes) -> None:
    with pytest.raises(BadPayload):
        PROVIDER.parse(request(body))


def test_the_right_credentials_verify_without_a_replay_key() -> None:
    verified = PROVIDER.verify(request(fixture("delivery")), SETTINGS, VerifyContext(now=NOW))

    assert (verified.method, verified.replay_key) == ("basic", None)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (basic("postmark", "wrong"), "wrong"),
        (basic("someone", "s3cret"), "wrong"),
        ({}, "missing"),
        ({"authorization": "Bearer s3cret"}, "missing"),
        ({"authorization": "Basic not-base64!"}, "malformed"),
    ],
)
def test_wrong_or_missing_credentials_fail(headers: dict[str, str], message: str) -> None:
    with pytest.raises(VerificationFailed, match=message):
        PROVIDER.verify(request(fixture("delivery"), headers), SETTINGS, VerifyContext(now=NOW))


def test_rotated_credentials_and_the_previous_ones_both_verify_during_the_overlap() -> None:
    rotated = PostmarkSettings(basic_auth=BasicAuth(username="postmark", password="rotated"))
    both = [rotated, SETTINGS]

    for password in ("rotated", "s3cret"):
        verified, _ = _verify_and_parse(
            PROVIDER, request(fixture("open"), basic("postmark", password)), both, VerifyContext(now=NOW)
        )
        assert verified.method == "basic"
    with pytest.raises(VerificationFailed):
        _verify_and_parse(PROVIDER, request(fixture("open"), basic("postmark", "old")), both, VerifyContext(NOW))


@pytest.mark.parametrize("webhook", [{}, {"basic_auth": {"username": "u"}}, {"bearer_token": "t"}])
def test_settings_need_basic_credentials(webhook: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(webhook, PROVIDER.Settings)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
records = st.fixed_dictionaries(
    {},
    optional={
        "RecordType": st.sampled_from(["Bounce", "Delivery", "SubscriptionChange", "Open", "X"]) | json_values,
        "Recipient": st.sampled_from(["a@b.example", "x"]) | json_values,
        "Email": st.sampled_from(["a@b.example"]) | json_values,
        "Type": st.sampled_from(["HardBounce", "Nope"]) | json_values,
        "TypeCode": st.integers() | json_values,
        "ID": st.integers() | json_values,
        "BouncedAt": st.text(max_size=35) | json_values,
        "DeliveredAt": st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]) | json_values,
        "ReceivedAt": st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()) | json_values,
        "SuppressSending": json_values,
        "SuppressionReason": json_values,
        "Metadata": json_values,
        "Tag": json_values,
        "Geo": json_values,
    },
)
bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | records.map(lambda v: json.dumps(v).encode())
)


@settings(max_examples=300, deadline=None)
@given(body=bodies, authorization=st.text(max_size=40))
def test_parse_and_verify_raise_nothing_but_webhook_rejections(body: bytes, authorization: str) -> None:
    incoming = request(body, {"authorization": authorization})
    for step in (lambda: PROVIDER.parse(incoming), lambda: PROVIDER.verify(incoming, SETTINGS, VerifyContext(NOW))):
        try:
            step()
        except WebhookRejected:
            continue
