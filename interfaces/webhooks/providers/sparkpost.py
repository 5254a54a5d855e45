"""SparkPost (now Bird Email) event webhooks.

Docs: https://developers.sparkpost.com/api/webhooks/ (event fields:
https://support.sparkpost.com/docs/tech-resources/webhook-event-reference; bounce classes:
https://support.sparkpost.com/docs/deliverability/bounce-classification-codes).

No payload signature exists: the webhook is configured with HTTP Basic credentials or an OAuth2
client-credentials token that SparkPost sends as ``Authorization: Bearer``; exactly one is set here.
The body is a JSON array of ``{"msys": {"<class>_event": {...}}}``; ``[{"msys": {}}]`` is the ping sent
when the webhook is created and yields nothing. ``event_id`` is the event id. The message id is
``transmission_id`` (``message_id`` only when it is absent): the Transmissions API returns the
transmission id at send time and never ``message_id``, so only the former correlates with what we sent
(the same choice as django-anymail); with the recipient it identifies one message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import msgspec

from domain.email_event import BounceClass, EmailEventType, NormalizedEvent, Quarantined
from interfaces.webhooks.provider import BadPayload, Parsed, Verified, VerifyContext, WebhookRequest, decode_json
from interfaces.webhooks.providers._common import (
    BasicOrBearerSettings,
    address,
    check_credential,
    flat,
    iso_or_none,
    string_or_none,
    text_or_none,
    unix_or_none,
)

T = EmailEventType
_TYPES = {
    # message_event
    "injection": T.ACCEPTED, "delivery": T.DELIVERED, "delay": T.DEFERRED, "bounce": T.BOUNCED,
    "out_of_band": T.BOUNCED, "policy_rejection": T.REJECTED, "spam_complaint": T.COMPLAINED,
    # gen_event
    "generation_rejection": T.REJECTED, "generation_failure": T.FAILED,
    # track_event
    "open": T.OPENED, "initial_open": T.OPENED, "amp_open": T.OPENED, "amp_initial_open": T.OPENED,
    "click": T.CLICKED, "amp_click": T.CLICKED,
    # unsubscribe_event
    "list_unsubscribe": T.UNSUBSCRIBED, "link_unsubscribe": T.UNSUBSCRIBED,
}  # fmt: skip
# Bounce classification codes: hard = 10, 30, 90; soft, block and challenge = the rest below. Class 25
# (admin failure: SparkPost's own policy refused the message) is a rejection, not a bounce; 1, 80 and
# anything unknown are undetermined.
_HARD = frozenset({10, 30, 90})
_SOFT = frozenset({20, 21, 22, 23, 24, 40, 50, 51, 52, 53, 54, 60, 70, 100})
_ADMIN_FAILURE = 25


class SparkPostSettings(BasicOrBearerSettings, kw_only=True):
    """The credentials configured on the SparkPost webhook: Basic auth or an OAuth2 bearer token."""


class SparkPost:
    """SparkPost's event webhooks."""

    NAME: ClassVar[str] = "sparkpost"
    CONTENT_TYPES: ClassVar[tuple[str, ...]] = ("application/json",)
    Settings: ClassVar[type[msgspec.Struct]] = SparkPostSettings

    def verify(self, request: WebhookRequest, settings: SparkPostSettings, ctx: VerifyContext) -> Verified:
        return check_credential(request.headers, settings.basic_auth, settings.bearer_token)

    def parse(self, request: WebhookRequest) -> Parsed:
        body = decode_json(request.body)
        if not isinstance(body, list):
            raise BadPayload('body must be a JSON array of {"msys": {...}} items')
        out: Parsed = []
        for item in body:
            msys = item.get("msys") if isinstance(item, dict) else None
            if not isinstance(msys, dict):
                out.append(Quarantined("item has no msys object", item))
                continue
            # One "<class>_event" key per item; none at all in the ping.
            out.extend(_event(event, item) for event in msys.values())
        return out


def _event(event: Any, item: Any) -> NormalizedEvent | Quarantined:
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return Quarantined("msys event is not an object with a type", item)
    try:
        recipient = address(event.get("rcpt_to") or event.get("raw_rcpt_to"))
    except ValueError:
        return Quarantined("rcpt_to is missing or not an email address", item)
    occurred_at = _when(event.get("timestamp"))
    if occurred_at is None:
        return Quarantined("timestamp is neither unix seconds nor ISO 8601", item)
    name = event["type"]
    kind, bounce_class = _TYPES.get(name, T.UNKNOWN), None
    if kind is T.BOUNCED:
        kind, bounce_class = _bounce(event.get("bounce_class"))
    return NormalizedEvent(
        type=kind,
        provider_event_type=name,
        recipient=recipient,
        occurred_at=occurred_at,
        provider_message_id=text_or_none(event.get("transmission_id")) or text_or_none(event.get("message_id")),
        provider_event_id=text_or_none(event.get("event_id")),
        bounce_class=bounce_class,
        click_url=string_or_none(event.get("target_link_url")),
        reason=string_or_none(event.get("raw_reason")) or string_or_none(event.get("reason")),
        smtp_code=text_or_none(event.get("error_code")),
        user_agent=string_or_none(event.get("user_agent")),
        ip=string_or_none(event.get("ip_address")),
        metadata=flat(event.get("rcpt_meta"), tags=event.get("rcpt_tags")),
        raw=item,
    )


def _bounce(code: Any) -> tuple[EmailEventType, BounceClass | None]:
    number = text_or_none(code)
    value = int(number) if number and len(number) < 6 and number.isascii() and number.isdigit() else None
    if value == _ADMIN_FAILURE:
        return T.REJECTED, None
    if value in _HARD:
        return T.BOUNCED, BounceClass.HARD
    if value in _SOFT:
        return T.BOUNCED, BounceClass.SOFT
    return T.BOUNCED, BounceClass.UNDETERMINED


def _when(value: Any) -> datetime | None:
    # Unix seconds as a string; generation_failure events have been seen with ISO 8601 instead.
    return unix_or_none(value) or iso_or_none(value)


PROVIDER = SparkPost()
