"""Resend adapter: Svix signatures, one event per recipient, svix-id as the event id, fuzzing."""

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
from interfaces.webhooks.providers.resend import PROVIDER

FIXTURES = Path(__file__).parent / "fixtures" / "resend"
NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
CTX = VerifyContext(now=NOW)
KEY, NEXT_KEY, OTHER_KEY = os.urandom(24), os.urandom(24), os.urandom(24)
T, B = EmailEventType, BounceClass


def whsec(key: bytes) -> str:
    return "whsec_" + base64.b64encode(key).decode()


SETTINGS = msgspec.convert({"secrets": [whsec(KEY)]}, PROVIDER.Settings)
ROTATING = msgspec.convert({"secrets": [whsec(KEY), whsec(NEXT_KEY)]}, PROVIDER.Settings)


def signed(body: bytes, key: bytes = KEY, svix_id: str = "msg_2W2D3qXLS5fOaPja1GDg7rF2CwB", at: datetime = NOW):
    stamp = str(int(at.timestamp()))
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(f"{svix_id}.{stamp}.".encode() + body)
    signature = "v1," + base64.b64encode(mac.finalize()).decode()
    headers = {"svix-id": svix_id, "svix-timestamp": stamp, "svix-signature": signature}
    return WebhookRequest("https://tidings.example/webhooks/1", headers, body)


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def parse(payload: Any, svix_id: str | None = "msg_1") -> list[NormalizedEvent | Quarantined]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"svix-id": svix_id} if svix_id else {}
    result = PROVIDER.parse(WebhookRequest("https://tidings.example/webhooks/1", headers, body))
    assert isinstance(result, list)
    return result


def one(payload: Any, svix_id: str | None = "msg_1") -> NormalizedEvent:
    (event,) = parse(payload, svix_id)
    assert isinstance(event, NormalizedEvent), event
    return event


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("email.sent", (T.ACCEPTED, None)),
        ("email.scheduled", (T.ACCEPTED, None)),
        ("email.delivered", (T.DELIVERED, None)),
        ("email.delivery_delayed", (T.DEFERRED, None)),
        ("email.complained", (T.COMPLAINED, None)),
        ("email.bounced", (T.BOUNCED, B.HARD)),
        ("email.bounced.transient", (T.BOUNCED, B.SOFT)),
        ("email.bounced.legacy", (T.BOUNCED, B.UNDETERMINED)),
        ("email.opened", (T.OPENED, None)),
        ("email.clicked", (T.CLICKED, None)),
        ("email.failed", (T.FAILED, None)),
        ("email.suppressed", (T.REJECTED, None)),
        ("suppression.added", (T.SUPPRESSION_ADDED, None)),
        ("contact.created", (T.UNKNOWN, None)),
        ("domain.updated", (T.UNKNOWN, None)),
    ],
)
def test_every_event_type_maps_to_its_normalized_type(name: str, expected: tuple[T, B | None]) -> None:
    event = one(fixture(name))
    assert (event.type, event.bounce_class) == expected


def test_a_delivery_keeps_ids_time_recipient_and_tags() -> None:
    event = one(fixture("email.delivered"), svix_id="msg_abc")
    assert (event.provider_event_id, event.provider_message_id) == ("msg_abc", "56761188-7520-42d8-8898-ff6fc54ce618")
    assert event.recipient == "delivered@resend.dev"
    assert event.occurred_at == datetime(2024, 11, 22, 23, 41, 13, 460000, tzinfo=UTC)
    assert event.metadata == {"category": "confirm_email"}
    assert event.dedup_key() == "id:msg_abc:delivered@resend.dev"


def test_a_bounce_keeps_its_message_and_a_click_its_link_ip_and_agent() -> None:
    assert one(fixture("email.bounced")).reason is not None
    click = one(fixture("email.clicked"))
    assert (click.click_url, click.ip) == ("https://resend.com", "122.115.53.11")
    assert click.user_agent is not None and click.user_agent.startswith("Mozilla/5.0")


def test_failed_and_suppressed_keep_their_reasons() -> None:
    assert one(fixture("email.failed")).reason == "reached_daily_quota"
    assert one(fixture("email.suppressed")).reason == "This recipient is on your account's suppression list."


def test_every_recipient_gets_its_own_event_with_display_names_removed() -> None:
    first, second = parse(fixture("email.sent.multiple"), svix_id="msg_multi")
    assert isinstance(first, NormalizedEvent) and isinstance(second, NormalizedEvent)
    assert (first.recipient, second.recipient) == ("to@example.org", "to2@example.org")
    assert first.dedup_key() != second.dedup_key()
    assert first.metadata == {"tag1": "Tag_1_value", "tag2": "Tag_2_value"}


def test_contact_and_suppression_events_name_their_address_and_domain_events_none() -> None:
    assert one(fixture("contact.created")).recipient == "steve.wozniak@gmail.com"
    assert one(fixture("suppression.added")).recipient == "bounced@example.com"
    assert one(fixture("domain.updated")).recipient == ""


def test_a_duplicate_delivery_of_the_same_svix_message_shares_its_dedup_key() -> None:
    assert one(fixture("email.opened"), "msg_5").dedup_key() == one(fixture("email.opened"), "msg_5").dedup_key()
    assert one(fixture("email.opened"), "msg_5").dedup_key() != one(fixture("email.opened"), "msg_6").dedup_key()


def test_duplicate_recipients_within_one_event_share_a_dedup_key() -> None:
    body = json.loads(fixture("email.delivered"))
    body["data"]["to"] = ["a@example.com", "A@Example.com"]
    first, second = parse(body)
    assert first.dedup_key() == second.dedup_key()  # type: ignore[union-attr]


def test_without_a_svix_id_the_canonical_hash_is_the_key() -> None:
    assert one(fixture("email.opened"), svix_id=None).dedup_key().startswith("sha256:")


def test_tags_in_the_send_api_list_form_are_accepted() -> None:
    body = json.loads(fixture("email.delivered"))
    body["data"]["tags"] = [{"name": "plan", "value": "pro"}, {"name": "seats", "value": 3}, "junk"]
    assert one(body).metadata == {"plan": "pro", "seats": "3"}


def test_bad_items_are_quarantined_while_good_recipients_are_kept() -> None:
    body = json.loads(fixture("email.delivered"))
    body["data"]["to"] = ["good@example.com", "not an address", 42]
    parsed = parse(body)
    assert [type(p).__name__ for p in parsed] == ["NormalizedEvent", "Quarantined", "Quarantined"]
    assert parsed[1].reason == "recipient #2 is not an email address"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": None}, "event has no type string or no data object"),
        ({"data": []}, "event has no type string or no data object"),
        ({"created_at": "yesterday"}, "created_at is missing or not ISO 8601 with an offset"),
        ({"created_at": "2024-11-22T23:41:12"}, "created_at is missing or not ISO 8601 with an offset"),
        ({"data": {"email_id": "x"}}, "email.delivered event names no recipient"),
    ],
)
def test_an_unusable_event_is_quarantined(change: dict[str, Any], reason: str) -> None:
    (quarantined,) = parse({**json.loads(fixture("email.delivered")), **change})
    assert isinstance(quarantined, Quarantined) and quarantined.reason == reason


def test_big_integer_ids_stay_exact() -> None:
    body = (
        b'{"type":"email.sent","created_at":"2024-11-22T23:41:12Z","data":{"email_id":123456789012345678901,'
        b'"to":["a@example.com"]}}'
    )
    assert one(body).provider_message_id == "123456789012345678901"


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"3", b"null", b"\xed\xa0\x80", b"{", b"[" * 40 + b"]" * 40])
def test_an_unusable_body_is_a_bad_payload(body: bytes) -> None:
    with pytest.raises(BadPayload):
        PROVIDER.parse(WebhookRequest("https://tidings.example/webhooks/1", {}, body))


def test_a_svix_signed_request_verifies() -> None:
    assert PROVIDER.verify(signed(fixture("email.sent")), SETTINGS, CTX).method == "svix"


def test_a_tampered_body_fails() -> None:
    request = signed(fixture("email.sent"))
    tampered = WebhookRequest(request.url, request.headers, request.body.replace(b"delivered@", b"victim@"))
    with pytest.raises(VerificationFailed, match="svix-signature"):
        PROVIDER.verify(tampered, SETTINGS, CTX)


def test_a_wrong_secret_fails() -> None:
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(signed(fixture("email.sent"), key=OTHER_KEY), SETTINGS, CTX)


@pytest.mark.parametrize("missing", ["svix-id", "svix-timestamp", "svix-signature"])
def test_missing_headers_fail(missing: str) -> None:
    request = signed(fixture("email.sent"))
    headers = {k: v for k, v in request.headers.items() if k != missing}
    with pytest.raises(VerificationFailed, match="missing"):
        PROVIDER.verify(WebhookRequest(request.url, headers, request.body), SETTINGS, CTX)


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_a_stale_or_future_timestamp_fails(offset: timedelta) -> None:
    with pytest.raises(VerificationFailed, match="timestamp is"):
        PROVIDER.verify(signed(fixture("email.sent"), at=NOW + offset), SETTINGS, CTX)


@pytest.mark.parametrize("key", [KEY, NEXT_KEY])
def test_during_a_rotation_either_secret_verifies(key: bytes) -> None:
    PROVIDER.verify(signed(fixture("email.sent"), key=key), ROTATING, CTX)


def test_no_replay_key_is_returned_because_svix_id_deduplicates_retries() -> None:
    # Retries keep svix-id but are re-signed with a fresh timestamp; the event id catches them.
    first = PROVIDER.verify(signed(fixture("email.sent"), at=NOW), SETTINGS, CTX)
    retry = PROVIDER.verify(signed(fixture("email.sent"), at=NOW - timedelta(seconds=5)), SETTINGS, CTX)
    assert (first.replay_key, retry.replay_key) == (None, None)


@pytest.mark.parametrize("secrets", [[], ["whsec_%%%"], ["whsec_"]])
def test_settings_need_valid_whsec_secrets(secrets: list[str]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"secrets": secrets}, PROVIDER.Settings)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
DATA_FIELDS = ["to", "email", "email_id", "bounce", "click", "failed", "suppressed", "tags"]
TEXTS = st.sampled_from(["email.bounced", "domain.updated", "a@b.c", "X <a@b.c>", "<>", "2024-11-22T23:41:12.126Z"])
EVENT = st.fixed_dictionaries(
    {},
    optional={
        "type": JSON | TEXTS,
        "created_at": JSON | TEXTS,
        "data": st.dictionaries(st.sampled_from(DATA_FIELDS), JSON | TEXTS | st.lists(TEXTS, max_size=3)),
    },
)
HEADERS = st.dictionaries(
    st.sampled_from(["svix-id", "svix-timestamp", "svix-signature", "webhook-id"]),
    st.text(max_size=40) | st.sampled_from([str(int(NOW.timestamp())), "v1,AAAA", "v1a,x v1,"]),
)


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
@given(st.binary(max_size=300), HEADERS)
def test_arbitrary_bytes_and_headers_raise_only_webhook_rejections(body: bytes, headers: dict[str, str]) -> None:
    assert_only_rejections(body, headers)


@settings(max_examples=150, deadline=None)
@given(JSON | EVENT, HEADERS)
def test_arbitrary_json_raises_only_webhook_rejections(value: Any, headers: dict[str, str]) -> None:
    assert_only_rejections(json.dumps(value).encode(), headers)
