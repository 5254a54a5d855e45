"""Mandrill adapter: HMAC-SHA1 over the configured URL + sorted form params, batches without event ids."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

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
from interfaces.webhooks.providers.mandrill import PROVIDER, MandrillSettings
from interfaces.webhooks.route import _verify_and_parse

FIXTURES = Path(__file__).parent / "fixtures" / "mandrill"
# Mandrill signs the URL configured on its side; behind a proxy the request arrives at another one.
SIGNED_URL = "https://hooks:pw@tidings.example/webhooks/7c4d?source=mandrill"
ARRIVED_AT = "http://10.0.0.7:8000/webhooks/7c4d?source=mandrill"
KEY = "Zq4mEWuYkS9pV3d0cD2fYg"
SETTINGS = MandrillSettings(webhook_key=KEY, signed_url=SIGNED_URL)
CTX = VerifyContext(now=datetime(2026, 3, 1, tzinfo=UTC))


def fixture(name: str) -> list[Any]:
    return list(json.loads((FIXTURES / f"{name}.json").read_text()))


def mandrill_signature(key: str, url: str, params: dict[str, str]) -> str:
    signed = url + "".join(k + v for k, v in sorted(params.items()))
    return base64.b64encode(hmac.new(key.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def signed(events: Any, key: str = KEY, url: str = SIGNED_URL) -> WebhookRequest:
    params = {"mandrill_events": events if isinstance(events, str) else json.dumps(events)}
    headers = {"x-mandrill-signature": mandrill_signature(key, url, params)}
    return WebhookRequest(ARRIVED_AT, headers, urlencode(params).encode())


def parse(events: Any) -> list[NormalizedEvent | Quarantined]:
    parsed = PROVIDER.parse(signed(events))
    assert isinstance(parsed, list)
    return parsed


def normalized(events: Any) -> list[NormalizedEvent]:
    parsed = parse(events)
    assert all(isinstance(p, NormalizedEvent) for p in parsed), parsed
    return [p for p in parsed if isinstance(p, NormalizedEvent)]


def test_a_batch_of_every_message_event_maps_to_its_normalized_types() -> None:
    request = signed(fixture("message_events"))

    assert PROVIDER.verify(request, SETTINGS, CTX).method == "hmac-sha1"
    parsed = PROVIDER.parse(request)
    assert isinstance(parsed, list)
    assert [(p.provider_event_type, p.type, p.bounce_class) for p in parsed if isinstance(p, NormalizedEvent)] == [
        ("send", EmailEventType.ACCEPTED, None),
        ("deferral", EmailEventType.DEFERRED, None),
        ("hard_bounce", EmailEventType.BOUNCED, BounceClass.HARD),
        ("soft_bounce", EmailEventType.BOUNCED, BounceClass.SOFT),
        ("open", EmailEventType.OPENED, None),
        ("click", EmailEventType.CLICKED, None),
        ("spam", EmailEventType.COMPLAINED, None),
        ("unsub", EmailEventType.UNSUBSCRIBED, None),
        ("reject", EmailEventType.REJECTED, None),
    ]


def test_denylist_sync_events_add_and_remove_suppressions_and_allowlist_ones_are_unknown() -> None:
    assert [(e.provider_event_type, e.type, e.reason) for e in normalized(fixture("sync_events"))] == [
        ("blacklist.add", EmailEventType.SUPPRESSION_ADDED, "hard-bounce"),
        ("blacklist.change", EmailEventType.SUPPRESSION_ADDED, "spam"),
        ("blacklist.remove", EmailEventType.SUPPRESSION_REMOVED, "hard-bounce"),
        ("whitelist.add", EmailEventType.UNKNOWN, "example details"),
        ("whitelist.remove", EmailEventType.UNKNOWN, "example details"),
    ]
    renamed = [{**e, "type": "denylist"} for e in fixture("sync_events")[:3]]
    assert [e.type for e in normalized(renamed)] == [
        EmailEventType.SUPPRESSION_ADDED,
        EmailEventType.SUPPRESSION_ADDED,
        EmailEventType.SUPPRESSION_REMOVED,
    ]


def test_event_details_are_kept() -> None:
    send, deferral, hard, soft, opened, click, *_ = normalized(fixture("message_events"))

    assert send.recipient == "example.webhook@mandrillapp.com"
    assert send.occurred_at == datetime(2013, 11, 20, 13, 26, 44, tzinfo=UTC)
    assert (send.provider_message_id, send.provider_event_id) == ("exampleaaaaaaaaaaaaaaaaaaaaaaaaa", None)
    assert (deferral.smtp_code, deferral.reason) == ("451", "451 4.3.5 Temporarily unavailable, try again later.")
    assert (hard.smtp_code, soft.smtp_code, soft.reason) == ("550", "552", "smtp;552 5.2.2 Over Quota")
    assert (opened.ip, opened.user_agent) == (
        "127.0.0.1",
        "Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; en-US; rv:1.9.1.8) Gecko/20100317 Postbox/1.1.3",
    )
    assert click.click_url == "http://mandrill.com"


def test_metadata_and_tags_become_metadata_with_big_integers_exact() -> None:
    send, *_ = normalized(fixture("message_events"))

    assert send.metadata == {"user_id": "111", "contact_id": "12345678901234567890", "tags": '["webhook-example"]'}


def test_the_empty_batch_posted_when_a_webhook_is_added_parses_to_nothing() -> None:
    assert PROVIDER.parse(signed([])) == []


def test_mandrills_generic_test_key_is_refused_even_for_the_empty_batch() -> None:
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(signed([], key="test-webhook"), SETTINGS, CTX)


def test_an_unknown_event_name_is_kept_as_unknown() -> None:
    [event] = normalized([{**fixture("message_events")[0], "event": "inbound_soon"}])

    assert (event.type, event.provider_event_type) == (EmailEventType.UNKNOWN, "inbound_soon")


def test_duplicates_in_a_batch_have_equal_dedup_keys_and_repeated_opens_do_not() -> None:
    opened = fixture("message_events")[4]
    later = {**opened, "ts": opened["ts"] + 60}

    first, again, reopened = normalized([opened, opened, later])

    assert first.dedup_key() == again.dedup_key() != reopened.dedup_key()
    assert first.dedup_key().startswith("sha256:")


def test_bad_items_are_quarantined_while_the_rest_is_parsed() -> None:
    good = fixture("message_events")[0]
    bad = [
        [1, 2],
        {"msg": {"email": "a@b.example"}, "ts": 1},
        {**good, "msg": {**good["msg"], "email": None}},
        {**good, "ts": "later"},
        {"type": "blacklist", "action": "add", "reject": {"email": "a@b.example"}},
    ]

    parsed = parse([*bad, good])

    assert [p.item for p in parsed if isinstance(p, Quarantined)] == bad
    assert all(p.reason for p in parsed if isinstance(p, Quarantined))
    assert [p.provider_event_type for p in parsed if isinstance(p, NormalizedEvent)] == ["send"]


@pytest.mark.parametrize(
    "body",
    [b"", b"events=%5B%5D", b"mandrill_events=%7B%7D", b"mandrill_events=%5B", b"mandrill_events=%FF", b"a=1&a=2"],
    ids=["empty", "no-mandrill-events", "not-an-array", "not-json", "not-utf8", "repeated-param"],
)
def test_a_body_without_a_json_array_in_mandrill_events_is_a_bad_payload(body: bytes) -> None:
    with pytest.raises(BadPayload):
        PROVIDER.parse(WebhookRequest(ARRIVED_AT, {}, body))


def test_a_tampered_body_fails_verification() -> None:
    request = signed(fixture("message_events"))
    tampered = request.body.replace(b"bad_mailbox", b"good_mailbox")

    with pytest.raises(VerificationFailed, match="does not match"):
        PROVIDER.verify(WebhookRequest(ARRIVED_AT, request.headers, tampered), SETTINGS, CTX)


@pytest.mark.parametrize(
    "request_",
    [signed([], key="another-webhooks-key"), signed([], url=ARRIVED_AT), signed([], url=SIGNED_URL + "&x=1")],
    ids=["other-key", "url-as-seen-behind-the-proxy", "other-url"],
)
def test_a_signature_over_another_key_or_url_fails(request_: WebhookRequest) -> None:
    with pytest.raises(VerificationFailed, match="does not match"):
        PROVIDER.verify(request_, SETTINGS, CTX)


def test_a_missing_signature_fails() -> None:
    request = signed(fixture("message_events"))

    with pytest.raises(VerificationFailed, match="missing"):
        PROVIDER.verify(WebhookRequest(ARRIVED_AT, {}, request.body), SETTINGS, CTX)


def test_a_repeated_form_parameter_fails_verification() -> None:
    request = signed([])

    with pytest.raises(VerificationFailed, match="repeats"):
        PROVIDER.verify(
            WebhookRequest(ARRIVED_AT, request.headers, request.body + b"&mandrill_events=%5B%5D"), SETTINGS, CTX
        )


def test_there_is_no_replay_key_without_a_timestamp() -> None:
    assert PROVIDER.verify(signed(fixture("message_events")), SETTINGS, CTX).replay_key is None


def test_a_reset_key_and_the_previous_one_both_verify_during_the_overlap() -> None:
    both = [MandrillSettings(webhook_key="new-key", signed_url=SIGNED_URL), SETTINGS]

    for key in ("new-key", KEY):
        verified, parsed = _verify_and_parse(PROVIDER, signed(fixture("sync_events"), key=key), both, CTX)
        assert verified.method == "hmac-sha1"
        assert len(parsed) == 5
    with pytest.raises(VerificationFailed):
        _verify_and_parse(PROVIDER, signed(fixture("sync_events"), key="third-key"), both, CTX)


@pytest.mark.parametrize(
    "webhook",
    [{}, {"webhook_key": "k"}, {"webhook_key": "", "signed_url": SIGNED_URL}, {"webhook_key": "k", "signed_url": "/x"}],
)
def test_settings_need_a_key_and_the_signed_url(webhook: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(webhook, PROVIDER.Settings)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
items = st.fixed_dictionaries(
    {},
    optional={
        "event": st.sampled_from(["send", "hard_bounce", "x"]) | json_values,
        "type": st.sampled_from(["blacklist", "whitelist"]) | json_values,
        "action": st.sampled_from(["add", "remove"]) | json_values,
        "ts": st.integers() | st.floats() | json_values,
        "msg": st.fixed_dictionaries(
            {}, optional={"email": json_values, "diag": json_values, "smtp_events": json_values, "tags": json_values}
        )
        | json_values,
        "reject": json_values,
        "entry": json_values,
    },
)
form_bodies = (
    st.lists(items | json_values, max_size=4).map(lambda v: urlencode({"mandrill_events": json.dumps(v)}).encode())
    | json_values.map(lambda v: urlencode({"mandrill_events": json.dumps(v)}).encode())
    | st.lists(st.tuples(st.text(max_size=8), st.text(max_size=20)), max_size=4).map(lambda v: urlencode(v).encode())
    | st.binary(max_size=200)
)


@settings(max_examples=300, deadline=None)
@given(body=form_bodies, signature=st.text(max_size=40))
def test_parse_and_verify_raise_nothing_but_webhook_rejections(body: bytes, signature: str) -> None:
    request = WebhookRequest(ARRIVED_AT, {"x-mandrill-signature": signature}, body)
    for step in (lambda: PROVIDER.parse(request), lambda: PROVIDER.verify(request, SETTINGS, CTX)):
        try:
            step()
        except WebhookRejected:
            continue
