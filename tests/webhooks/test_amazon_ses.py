"""Amazon SES through SNS: the SNS signature scheme, the topic allow-list and every SES event record.

Fixtures are the SES documentation's example records (event publishing and the older identity
notifications) and SNS's example envelopes; the tests sign them with a throwaway RSA key whose
self-signed certificate is pinned under an SNS-looking SigningCertURL.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.email_event import BounceClass, NormalizedEvent, Quarantined
from domain.email_event import EmailEventType as T
from interfaces.webhooks.provider import (
    BadPayload,
    Handshake,
    VerificationFailed,
    VerifyContext,
    WebhookRejected,
    WebhookRequest,
)
from interfaces.webhooks.providers.amazon_ses import PROVIDER, AmazonSesSettings
from interfaces.webhooks.registry import get_provider

FIXTURES = Path(__file__).parent / "fixtures" / "amazon_ses"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
TOPIC = "arn:aws:sns:us-west-2:123456789012:MyTopic"
CERT_URL = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"
OTHER_CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
# The keys SNS signs, in order (docs: sns-verify-signature-of-message), written out independently here.
NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


def certificate(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM, OTHER_PEM = certificate(KEY), certificate(OTHER_KEY)
SETTINGS = AmazonSesSettings(allowed_topic_arns=[TOPIC], pinned_certificates={CERT_URL: PEM})
CTX = VerifyContext(now=NOW)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def sign(envelope: dict[str, Any], key: rsa.RSAPrivateKey = KEY, version: str = "1") -> dict[str, Any]:
    keys = NOTIFICATION_KEYS if envelope["Type"] == "Notification" else CONFIRMATION_KEYS
    text = "".join(f"{k}\n{envelope[k]}\n" for k in keys if envelope.get(k) is not None)
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key.sign(text.encode(), padding.PKCS1v15(), algorithm)
    return {**envelope, "SignatureVersion": version, "Signature": base64.b64encode(signature).decode()}


def notification(ses_event: Any, *, when: datetime = NOW, **fields: Any) -> dict[str, Any]:
    message = ses_event if isinstance(ses_event, str) else json.dumps(ses_event)
    return {**fixture("sns_notification.json"), "Message": message, "Timestamp": iso(when), **fields}


def request(envelope: dict[str, Any]) -> WebhookRequest:
    headers = {"content-type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": str(envelope.get("Type"))}
    return WebhookRequest("https://tidings.example/webhooks/ses", headers, json.dumps(envelope).encode())


def signed(ses_event: Any, version: str = "1", **fields: Any) -> WebhookRequest:
    return request(sign(notification(ses_event, **fields), version=version))


def parsed(ses_event: Any, **fields: Any) -> list[NormalizedEvent | Quarantined]:
    result = PROVIDER.parse(signed(ses_event, **fields))
    assert isinstance(result, list)
    return result


def events(ses_event: Any, **fields: Any) -> list[NormalizedEvent]:
    result = parsed(ses_event, **fields)
    assert all(isinstance(e, NormalizedEvent) for e in result), result
    return result  # type: ignore[return-value]


def fetcher(pem: str, calls: list[str]) -> Callable[[str], bytes]:
    def fetch(url: str) -> bytes:
        calls.append(url)
        return pem.encode()

    return fetch


# --- registry and settings ---


def test_the_registry_finds_the_provider_by_name() -> None:
    assert get_provider("amazon_ses") is PROVIDER
    assert PROVIDER.CONTENT_TYPES == ("text/plain", "application/json")


def test_settings_need_at_least_one_topic() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"allowed_topic_arns": []}, AmazonSesSettings)


def test_settings_refuse_unknown_fields() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"allowed_topic_arns": [TOPIC], "secret": "x"}, AmazonSesSettings)


def test_settings_refuse_a_pin_for_a_non_sns_url_or_a_non_certificate() -> None:
    good = msgspec.convert({"allowed_topic_arns": [TOPIC], "pinned_certificates": {CERT_URL: PEM}}, AmazonSesSettings)
    assert good.pinned_certificates == {CERT_URL: PEM}
    for pins in ({"https://evil.com/x.pem": PEM}, {CERT_URL + "\n": PEM}, {CERT_URL: "not a pem"}):
        with pytest.raises(msgspec.ValidationError, match="pinned_certificates"):
            msgspec.convert({"allowed_topic_arns": [TOPIC], "pinned_certificates": pins}, AmazonSesSettings)


# --- verification ---


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_notification_verifies_with_signature_versions_1_and_2(version: str) -> None:
    verified = PROVIDER.verify(signed(fixture("delivery.json"), version=version), SETTINGS, CTX)
    assert verified.method == f"sns-signature-v{version}"
    assert verified.replay_key is None


def test_a_notification_without_subject_verifies() -> None:
    envelope = notification(fixture("send.json"))
    del envelope["Subject"]
    PROVIDER.verify(request(sign(envelope)), SETTINGS, CTX)


def test_a_tampered_message_fails_verification() -> None:
    envelope = sign(notification(fixture("delivery.json")))
    envelope["Message"] = envelope["Message"].replace("recipient@example.com", "victim@example.com")
    with pytest.raises(VerificationFailed, match="Signature does not match"):
        PROVIDER.verify(request(envelope), SETTINGS, CTX)


def test_a_signature_by_another_key_fails_verification() -> None:
    envelope = sign(notification(fixture("delivery.json")), key=OTHER_KEY)
    with pytest.raises(VerificationFailed, match="Signature does not match"):
        PROVIDER.verify(request(envelope), SETTINGS, CTX)


def test_a_v1_signature_presented_as_v2_fails_verification() -> None:
    envelope = {**sign(notification(fixture("delivery.json")), version="1"), "SignatureVersion": "2"}
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(request(envelope), SETTINGS, CTX)


@pytest.mark.parametrize("field", ["Signature", "SigningCertURL", "SignatureVersion", "TopicArn", "Timestamp",
                                   "MessageId", "Message", "Type"])  # fmt: skip
def test_a_missing_field_fails_verification(field: str) -> None:
    envelope = sign(notification(fixture("delivery.json")))
    del envelope[field]
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(request(envelope), SETTINGS, CTX)


def test_an_unknown_signature_version_fails_verification() -> None:
    envelope = {**sign(notification(fixture("delivery.json"))), "SignatureVersion": "3"}
    with pytest.raises(VerificationFailed, match="SignatureVersion"):
        PROVIDER.verify(request(envelope), SETTINGS, CTX)


def test_a_topic_outside_the_allow_list_fails_verification_even_when_signed() -> None:
    envelope = sign(notification(fixture("delivery.json"), TopicArn="arn:aws:sns:us-west-2:999999999999:Evil"))
    with pytest.raises(VerificationFailed, match="TopicArn"):
        PROVIDER.verify(request(envelope), SETTINGS, CTX)


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-1.pem",
        "http://sns.us-west-2.amazonaws.com/SimpleNotificationService-1.pem",
        "https://amazonaws.com/SimpleNotificationService-1.pem",
        "https://s3.amazonaws.com/SimpleNotificationService-1.pem",
        "https://evil.com/sns.us-west-2.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.us-west-2.amazonaws.com@evil.com/SimpleNotificationService-1.pem",
        "https://user@sns.us-west-2.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.us-west-2.amazonaws.com:8443/SimpleNotificationService-1.pem",
        "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-1.txt",
        "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-1.pem?x=.pem",
        "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-1.pem#.pem",
        "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-1.pem\n",
        "https://sns.us-west-2.amazonaws.com\\@evil.com/x.pem",
        "https://sns..amazonaws.com/SimpleNotificationService-1.pem",
        "HTTPS://SNS.US-WEST-2.AMAZONAWS.COM/SimpleNotificationService-1.pem",
        "file:///etc/ssl/cert.pem",
    ],
)
def test_a_certificate_url_off_an_sns_host_is_refused_before_fetching(url: str) -> None:
    calls: list[str] = []
    envelope = sign(notification(fixture("delivery.json"), SigningCertURL=url))
    with pytest.raises(VerificationFailed, match="SigningCertURL"):
        PROVIDER.verify(request(envelope), SETTINGS, VerifyContext(now=NOW, fetch_certificate=fetcher(PEM, calls)))
    assert calls == []


@pytest.mark.parametrize("url", [CERT_URL, "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-9.pem"])
def test_an_unpinned_certificate_is_fetched_from_its_sns_url(url: str) -> None:
    calls: list[str] = []
    unpinned = AmazonSesSettings(allowed_topic_arns=[TOPIC])
    envelope = sign(notification(fixture("delivery.json"), SigningCertURL=url), version="2")
    PROVIDER.verify(request(envelope), unpinned, VerifyContext(now=NOW, fetch_certificate=fetcher(PEM, calls)))
    assert calls == [url]


def test_a_pinned_certificate_is_used_without_fetching() -> None:
    calls: list[str] = []
    PROVIDER.verify(
        signed(fixture("send.json")), SETTINGS, VerifyContext(now=NOW, fetch_certificate=fetcher("", calls))
    )
    assert calls == []


def test_without_a_pin_or_a_fetcher_verification_fails() -> None:
    unpinned = AmazonSesSettings(allowed_topic_arns=[TOPIC])
    with pytest.raises(VerificationFailed, match="certificate fetching is not configured"):
        PROVIDER.verify(signed(fixture("send.json")), unpinned, CTX)


def test_a_failing_or_garbage_fetch_fails_verification() -> None:
    def broken(url: str) -> bytes:
        raise OSError("connection reset")

    unpinned = AmazonSesSettings(allowed_topic_arns=[TOPIC])
    for fetch in (broken, fetcher("garbage", [])):
        with pytest.raises(VerificationFailed):
            PROVIDER.verify(signed(fixture("send.json")), unpinned, VerifyContext(now=NOW, fetch_certificate=fetch))


def test_rotated_certificates_each_verify_their_own_messages() -> None:
    both = AmazonSesSettings(allowed_topic_arns=[TOPIC], pinned_certificates={CERT_URL: PEM, OTHER_CERT_URL: OTHER_PEM})
    new = sign(notification(fixture("send.json"), SigningCertURL=OTHER_CERT_URL), key=OTHER_KEY)
    PROVIDER.verify(signed(fixture("send.json")), both, CTX)
    PROVIDER.verify(request(new), both, CTX)
    crossed = sign(notification(fixture("send.json"), SigningCertURL=OTHER_CERT_URL), key=KEY)
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(request(crossed), both, CTX)


@pytest.mark.parametrize("offset", [timedelta(seconds=-3601), timedelta(days=-30), timedelta(seconds=301)])
def test_a_stale_or_future_timestamp_fails_verification(offset: timedelta) -> None:
    with pytest.raises(VerificationFailed, match="timestamp"):
        PROVIDER.verify(signed(fixture("send.json"), when=NOW + offset), SETTINGS, CTX)


@pytest.mark.parametrize("offset", [timedelta(seconds=-3599), timedelta(seconds=299)])
def test_a_timestamp_inside_the_window_verifies(offset: timedelta) -> None:
    PROVIDER.verify(signed(fixture("send.json"), when=NOW + offset), SETTINGS, CTX)


def test_an_unparsable_timestamp_fails_verification() -> None:
    with pytest.raises(VerificationFailed, match="Timestamp"):
        PROVIDER.verify(request(sign({**notification(fixture("send.json")), "Timestamp": "yesterday"})), SETTINGS, CTX)


def test_a_body_that_is_not_an_sns_message_fails_verification() -> None:
    for body in (b"", b"not json", b"[]", b'{"Type": "Other"}', b'{"Type": ["Notification"]}'):
        with pytest.raises(VerificationFailed):
            PROVIDER.verify(WebhookRequest("https://x", {}, body), SETTINGS, CTX)


# --- subscription handshakes ---


@pytest.mark.parametrize(
    ("name", "kind"),
    [("sns_subscription_confirmation.json", "subscription_confirmation"),
     ("sns_unsubscribe_confirmation.json", "unsubscribe_confirmation")],
)  # fmt: skip
def test_a_valid_confirmation_verifies_and_parses_to_a_handshake(name: str, kind: str) -> None:
    envelope = sign({**fixture(name), "Timestamp": iso(NOW)}, version="2")
    PROVIDER.verify(request(envelope), SETTINGS, CTX)
    handshake = PROVIDER.parse(request(envelope))
    assert handshake == Handshake(
        kind=kind,
        details={"topic_arn": TOPIC, "subscribe_url": envelope["SubscribeURL"], "token": envelope["Token"],
                 "message_id": envelope["MessageId"]},
    )  # fmt: skip


def test_a_confirmation_with_a_forged_subscribe_url_or_foreign_topic_fails_verification() -> None:
    envelope = sign({**fixture("sns_subscription_confirmation.json"), "Timestamp": iso(NOW)})
    forged = {**envelope, "SubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&x=evil"}
    foreign = sign({**envelope, "TopicArn": "arn:aws:sns:us-east-1:999999999999:Other"})
    for bad in (forged, foreign, fixture("sns_subscription_confirmation.json")):
        with pytest.raises(VerificationFailed):
            PROVIDER.verify(request(bad), SETTINGS, CTX)


def test_a_confirmation_without_token_is_a_bad_payload() -> None:
    envelope = {**fixture("sns_subscription_confirmation.json")}
    del envelope["Token"]
    with pytest.raises(BadPayload):
        PROVIDER.parse(request(envelope))


# --- parsing ---


@pytest.mark.parametrize(
    ("name", "kind", "bounce_class", "provider_type"),
    [
        ("bounce.json", T.BOUNCED, BounceClass.HARD, "Bounce"),
        ("complaint.json", T.COMPLAINED, None, "Complaint"),
        ("delivery.json", T.DELIVERED, None, "Delivery"),
        ("send.json", T.ACCEPTED, None, "Send"),
        ("reject.json", T.REJECTED, None, "Reject"),
        ("open.json", T.OPENED, None, "Open"),
        ("click.json", T.CLICKED, None, "Click"),
        ("rendering_failure.json", T.FAILED, None, "Rendering Failure"),
        ("delivery_delay.json", T.DEFERRED, None, "DeliveryDelay"),
        ("subscription.json", T.UNSUBSCRIBED, None, "Subscription"),
        ("notification_bounce.json", T.BOUNCED, BounceClass.HARD, "Bounce"),
        ("notification_complaint.json", T.COMPLAINED, None, "Complaint"),
        ("notification_delivery.json", T.DELIVERED, None, "Delivery"),
    ],
)
def test_every_ses_event_type_maps_to_its_normalized_type(
    name: str, kind: T, bounce_class: BounceClass | None, provider_type: str
) -> None:
    found = events(fixture(name), MessageId="mid-1")
    assert found
    for event in found:
        assert (event.type, event.bounce_class, event.provider_event_type) == (kind, bounce_class, provider_type)
        assert event.provider_event_id == "mid-1"
        assert event.raw == fixture(name)


@pytest.mark.parametrize(
    ("bounce_type", "sub_type", "kind", "bounce_class"),
    [
        ("Permanent", "General", T.BOUNCED, BounceClass.HARD),
        ("Permanent", "NoEmail", T.BOUNCED, BounceClass.HARD),
        ("Transient", "MailboxFull", T.BOUNCED, BounceClass.SOFT),
        ("Transient", "General", T.BOUNCED, BounceClass.SOFT),
        ("Undetermined", "Undetermined", T.BOUNCED, BounceClass.UNDETERMINED),
        ("SomethingNew", "General", T.BOUNCED, BounceClass.UNDETERMINED),
        ("Permanent", "Suppressed", T.REJECTED, None),
        ("Permanent", "OnAccountSuppressionList", T.REJECTED, None),
    ],
)
def test_bounce_types_map_to_bounce_classes_or_rejection(
    bounce_type: str, sub_type: str, kind: T, bounce_class: BounceClass | None
) -> None:
    record = fixture("bounce.json")
    record["bounce"].update(bounceType=bounce_type, bounceSubType=sub_type)
    [event] = events(record)
    assert (event.type, event.bounce_class) == (kind, bounce_class)


def _preferences(unsubscribe_all: bool, **topics: str) -> dict[str, Any]:
    statuses = [{"topicName": t, "subscriptionStatus": s} for t, s in topics.items()]
    return {"unsubscribeAll": unsubscribe_all, "topicSubscriptionStatus": statuses}


@pytest.mark.parametrize(
    ("new", "old", "kind"),
    [
        (_preferences(True, news="OptOut"), _preferences(False, news="OptOut"), T.UNSUBSCRIBED),
        (_preferences(False, news="OptOut", deals="OptIn"), _preferences(False, news="OptIn", deals="OptIn"),
         T.UNSUBSCRIBED),
        (_preferences(False, news="OptOut", deals="OptIn"), _preferences(False, news="OptOut", deals="OptOut"),
         T.RESUBSCRIBED),
        (_preferences(False, news="OptIn"), _preferences(True, news="OptIn"), T.RESUBSCRIBED),
        (_preferences(False, news="OptIn"), _preferences(False, news="OptIn"), T.UNKNOWN),
        ({"unsubscribeAll": "yes", "topicSubscriptionStatus": [[], {"subscriptionStatus": ["OptOut"]}]}, 7, T.UNKNOWN),
    ],
)  # fmt: skip
def test_subscription_changes_map_to_unsubscribed_or_resubscribed(new: Any, old: Any, kind: T) -> None:
    record = fixture("subscription.json")
    record["subscription"].update(newTopicPreferences=new, oldTopicPreferences=old)
    [event] = events(record)
    assert event.type == kind


def test_a_bounce_keeps_its_ids_time_reason_status_and_tags() -> None:
    [event] = events(fixture("bounce.json"), MessageId="f1b6e0c2-sns")
    assert event.recipient == "recipient@example.com"
    assert event.occurred_at == datetime(2017, 8, 5, 0, 41, 2, 669000, tzinfo=UTC)
    assert event.provider_message_id == "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"
    assert event.provider_event_id == "f1b6e0c2-sns"
    assert event.reason == "smtp; 550 5.1.1 user unknown"
    assert event.smtp_code == "5.1.1"
    assert event.metadata == {"ses:configuration-set": "ConfigSet", "ses:source-ip": "192.0.2.0",
                              "ses:from-domain": "example.com", "ses:caller-identity": "ses_user"}  # fmt: skip
    assert event.dedup_key() == "id:f1b6e0c2-sns:recipient@example.com"


def test_a_click_keeps_its_link_ip_user_agent_and_joins_multi_valued_tags() -> None:
    [event] = events(fixture("click.json"))
    assert event.click_url == "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html"
    assert event.ip == "192.0.2.1"
    assert event.user_agent is not None and event.user_agent.startswith("Mozilla/5.0 (Windows NT 10.0")
    assert event.metadata["campaign"] == "spring,newsletter"
    assert event.occurred_at == datetime(2017, 8, 9, 23, 51, 25, 570000, tzinfo=UTC)


def test_events_without_their_own_time_take_the_send_time() -> None:
    [send] = events(fixture("send.json"))
    [reject] = events(fixture("reject.json"))
    assert send.occurred_at == datetime(2016, 10, 14, 5, 2, 16, 645000, tzinfo=UTC)
    assert (reject.reason, reject.occurred_at.year) == ("Bad content", 2016)


def test_reasons_come_from_the_smtp_response_feedback_type_error_and_diagnostic() -> None:
    assert events(fixture("delivery.json"))[0].reason == "250 2.6.0 Message received"
    assert events(fixture("complaint.json"))[0].reason == "abuse"
    assert events(fixture("rendering_failure.json"))[0].reason.startswith("Attribute 'attributeName'")  # type: ignore[union-attr]
    [delay] = events(fixture("delivery_delay.json"))
    assert (delay.reason, delay.smtp_code) == ("smtp; 421 4.4.1 Unable to connect to remote host", "4.4.1")


def test_one_ses_event_for_several_recipients_becomes_one_event_each() -> None:
    bounced = events(fixture("notification_bounce.json"), MessageId="sns-1")
    assert [e.recipient for e in bounced] == ["jane@example.com", "richard@example.com"]
    assert {e.provider_event_id for e in bounced} == {"sns-1"}
    assert len({e.dedup_key() for e in bounced}) == 2
    assert "richard@example.com" in bounced[1].reason  # type: ignore[operator]
    opened = fixture("open.json")
    opened["mail"]["destination"] = ["a@example.com", "b@example.com"]
    # Opens and clicks name no recipient: every destination is reported.
    assert [e.recipient for e in events(opened)] == ["a@example.com", "b@example.com"]


def test_a_repeated_recipient_or_a_retried_delivery_gives_equal_dedup_keys() -> None:
    record = fixture("notification_bounce.json")
    record["bounce"]["bouncedRecipients"].append(record["bounce"]["bouncedRecipients"][0])
    first = events(record, MessageId="sns-2")
    assert first[0].dedup_key() == first[2].dedup_key()
    retried = events(record, MessageId="sns-2", when=NOW + timedelta(seconds=20))
    assert [e.dedup_key() for e in first] == [e.dedup_key() for e in retried]
    other = events(record, MessageId="sns-3")
    assert {e.dedup_key() for e in first}.isdisjoint(e.dedup_key() for e in other)


def test_replay_key_is_none_because_the_sns_message_id_deduplicates() -> None:
    same = signed(fixture("send.json"), MessageId="sns-4")
    assert PROVIDER.verify(same, SETTINGS, CTX).replay_key is None
    assert PROVIDER.verify(same, SETTINGS, CTX).replay_key is None


def test_a_bad_recipient_is_quarantined_while_the_others_are_parsed() -> None:
    record = fixture("notification_bounce.json")
    record["bounce"]["bouncedRecipients"].insert(1, {"emailAddress": "not-an-address"})
    record["bounce"]["bouncedRecipients"].insert(2, 42)
    result = parsed(record)
    assert [type(r) for r in result] == [NormalizedEvent, Quarantined, Quarantined, NormalizedEvent]
    assert "recipient 1" in result[1].reason  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "message",
    [
        "Successfully validated SNS topic for Amazon SES event publishing.",
        json.dumps({"notificationType": "AmazonSnsSubscriptionSucceeded", "message": "You have subscribed"}),
        json.dumps([1, 2, 3]),
        json.dumps({"eventType": "Send", "mail": "not an object"}),
        '{"eventType": "Send", "mail": {',
    ],
)
def test_a_message_that_is_not_an_ses_event_is_quarantined(message: str) -> None:
    [item] = parsed(message)
    assert isinstance(item, Quarantined)


def test_an_event_without_recipients_or_with_a_bad_time_is_quarantined() -> None:
    no_recipients = fixture("delivery.json")
    no_recipients["delivery"]["recipients"] = []
    bad_time = fixture("bounce.json")
    bad_time["bounce"]["timestamp"] = "the fifth of August"
    for record, reason in ((no_recipients, "no recipients"), (bad_time, "timestamp")):
        [item] = parsed(record)
        assert isinstance(item, Quarantined) and reason in item.reason and item.item == record


def test_an_unknown_event_type_is_kept_as_unknown_for_every_destination() -> None:
    record = {**fixture("send.json"), "eventType": "Teleport", "teleport": {"timestamp": "2030-01-01T00:00:00.5Z"}}
    [event] = events(record)
    assert (event.type, event.provider_event_type, event.recipient) == (T.UNKNOWN, "Teleport", "recipient@example.com")
    assert event.occurred_at == datetime(2030, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)


def test_big_integers_stay_exact() -> None:
    record = fixture("send.json")
    record["mail"]["messageId"] = 2**64 + 1
    record["mail"]["tags"]["big"] = [2**70, "x"]
    [event] = events(record)
    assert event.provider_message_id == "18446744073709551617"
    assert event.metadata["big"] == "1180591620717411303424,x"


def test_a_body_that_is_not_an_sns_envelope_is_a_bad_payload() -> None:
    for body in (b"\xff", b"nope", b"[]", b'{"Type": "Notification"}', b'{"Type": {}, "MessageId": "x"}'):
        with pytest.raises(BadPayload):
            PROVIDER.parse(WebhookRequest("https://x", {}, body))


# --- robustness ---

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
emails = st.sampled_from(["a@example.com", "B@Example.com", "nope", ""]) | json_values
stamps = st.sampled_from(["2017-08-05T00:41:02.669Z", "2017-08-05", "0001-01-01T00:00:00+01:00", ""]) | json_values


def loose(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with any subset of ``fields`` (each possibly of a wrong type)."""
    return st.fixed_dictionaries({}, optional={k: v | json_values for k, v in fields.items()})


recipient_entries = st.lists(emails | loose({"emailAddress": emails, "status": st.text(), "diagnosticCode": st.text()}))
preferences = loose(
    {
        "unsubscribeAll": st.booleans(),
        "topicSubscriptionStatus": st.lists(
            loose({"topicName": st.text(max_size=5), "subscriptionStatus": st.sampled_from(["OptIn", "OptOut"])})
        ),
    }
)
ses_events = st.fixed_dictionaries(
    {"eventType": st.sampled_from(["Bounce", "Complaint", "Delivery", "Send", "Reject", "Open", "Click",
                                   "Rendering Failure", "DeliveryDelay", "Subscription", "Odd"]) | json_values},
    optional={
        "mail": loose({"destination": st.lists(emails), "timestamp": stamps, "messageId": json_values,
                       "tags": st.dictionaries(st.text(max_size=5), st.lists(json_values) | json_values)}),
        "bounce": loose({"bounceType": st.sampled_from(["Permanent", "Transient"]), "bounceSubType": st.text(),
                         "bouncedRecipients": recipient_entries, "timestamp": stamps}),
        "delivery": loose({"recipients": recipient_entries, "timestamp": stamps}),
        "subscription": loose({"newTopicPreferences": preferences, "oldTopicPreferences": preferences}),
        "click": loose({"link": st.text(), "ipAddress": st.text(), "timestamp": stamps}),
    },
)  # fmt: skip
envelopes = st.fixed_dictionaries(
    {"Type": st.sampled_from(["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]) | json_values},
    optional={k: st.text(max_size=30) | json_values for k in
              ("MessageId", "TopicArn", "Subject", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL",
               "Token", "SubscribeURL")} | {"Message": ses_events.map(json.dumps) | json_values},
)  # fmt: skip
bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | envelopes.map(lambda v: json.dumps(v).encode())
)
ROBUST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ROBUST
@given(body=bodies)
def test_verify_and_parse_raise_nothing_but_rejections_for_any_body(body: bytes) -> None:
    req = WebhookRequest("https://x", {}, body)
    ctx = VerifyContext(now=NOW, fetch_certificate=fetcher(PEM, []))
    with contextlib.suppress(WebhookRejected):
        PROVIDER.verify(req, SETTINGS, ctx)
    with contextlib.suppress(WebhookRejected):
        PROVIDER.parse(req)


@ROBUST
@given(event=ses_events, message_id=st.text(max_size=10))
def test_any_signed_ses_event_parses_to_events_or_quarantine(event: dict[str, Any], message_id: str) -> None:
    req = signed(copy.deepcopy(event), MessageId=message_id)
    PROVIDER.verify(req, SETTINGS, CTX)
    result = PROVIDER.parse(req)
    assert isinstance(result, list) and result
    for item in result:
        assert isinstance(item, NormalizedEvent | Quarantined)
        if isinstance(item, NormalizedEvent):
            assert item.recipient == item.recipient.lower() and "@" in item.recipient
            assert item.occurred_at.tzinfo is not None
            item.keyed()


@pytest.mark.parametrize("shift", [timedelta(days=-2), timedelta(days=366)], ids=["not-yet-valid", "expired"])
def test_a_certificate_outside_its_validity_period_fails_verification(shift: timedelta) -> None:
    # The same key and signature verify at NOW; only the instant moves out of the certificate's dates.
    later = NOW + shift
    envelope = sign(notification(fixture("send.json"), when=later))
    with pytest.raises(VerificationFailed, match="expired or not yet valid"):
        PROVIDER.verify(request(envelope), SETTINGS, VerifyContext(now=later))
