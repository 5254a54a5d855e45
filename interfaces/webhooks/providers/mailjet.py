"""Mailjet Event API (event notification webhooks).

Docs: https://dev.mailjet.com/email/guides/webhooks/ (source: github.com/mailjet/api-documentation,
``guides/_event-api.md``).

No signature exists: Mailjet recommends HTTPS with Basic credentials in the URL, which are required
here. Version 1 posts one bare event object; version 2 ("grouped") posts a JSON array of the last
second's events, types mixed. There is no event id, so the dedup key is the canonical hash of the item.
``MessageID`` is an int64 beyond 2^53 and is kept as an exact string (grouped examples carry only the
deprecated string ``mj_message_id``, used as a fallback). ``CustomID`` and ``Payload`` (spread into
keys when it is a JSON object) are the metadata.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import msgspec

from domain.email_event import BounceClass, EmailEventType, NormalizedEvent, Quarantined
from interfaces.webhooks.provider import Parsed, Verified, VerifyContext, WebhookRequest, decode_json
from interfaces.webhooks.providers._common import (
    BasicAuth,
    WebhookSettings,
    address,
    check_credential,
    one_or_many,
    spread_json,
    string_or_none,
    text_or_none,
    unix_or_none,
)

T = EmailEventType
# Mailjet's "sent" means the receiving MTA accepted the message.
_TYPES = {
    "sent": T.DELIVERED,
    "open": T.OPENED,
    "click": T.CLICKED,
    "bounce": T.BOUNCED,
    "blocked": T.REJECTED,
    "spam": T.COMPLAINED,
    "unsub": T.UNSUBSCRIBED,
}
# The reply code inside smtp_reply, e.g. "sent (250 2.0.0 OK 1433333948 ...)".
_SMTP_CODE = re.compile(r"\b([245][0-9]{2})\b")


class MailjetSettings(WebhookSettings, kw_only=True):
    """The Basic credentials embedded in the Event API URL."""

    basic_auth: BasicAuth


class Mailjet:
    """Mailjet's Event API."""

    NAME: ClassVar[str] = "mailjet"
    CONTENT_TYPES: ClassVar[tuple[str, ...]] = ("application/json",)
    Settings: ClassVar[type[msgspec.Struct]] = MailjetSettings

    def verify(self, request: WebhookRequest, settings: MailjetSettings, ctx: VerifyContext) -> Verified:
        return check_credential(request.headers, settings.basic_auth)

    def parse(self, request: WebhookRequest) -> Parsed:
        return [_event(item) for item in one_or_many(decode_json(request.body))]


def _event(item: Any) -> NormalizedEvent | Quarantined:
    if not isinstance(item, dict) or not isinstance(item.get("event"), str):
        return Quarantined("item is not an object with an event name", item)
    try:
        recipient = address(item.get("email"))
    except ValueError:
        return Quarantined("email is missing or not an email address", item)
    occurred_at = unix_or_none(item.get("time"))
    if occurred_at is None:
        return Quarantined("time is missing or not unix seconds", item)
    name = item["event"]
    kind, bounce_class = _TYPES.get(name, T.UNKNOWN), None
    if kind is T.BOUNCED:
        kind, bounce_class = _bounce(item)
    reply = string_or_none(item.get("smtp_reply"))
    code = _SMTP_CODE.search(reply) if reply else None
    return NormalizedEvent(
        type=kind,
        provider_event_type=name,
        recipient=recipient,
        occurred_at=occurred_at,
        provider_message_id=text_or_none(item.get("MessageID")) or text_or_none(item.get("mj_message_id")),
        bounce_class=bounce_class,
        click_url=string_or_none(item.get("url")),
        reason=_reason(item) or reply,
        smtp_code=code.group(1) if code else None,
        user_agent=string_or_none(item.get("agent")),
        ip=string_or_none(item.get("ip")),
        metadata=_metadata(item),
        raw=item,
    )


def _bounce(item: dict[str, Any]) -> tuple[EmailEventType, BounceClass | None]:
    hard = item.get("hard_bounce")
    if hard is True:
        return T.BOUNCED, BounceClass.HARD
    if hard is False:
        # Greylisting is a temporary refusal that Mailjet retries.
        if item.get("error") == "greylisted":
            return T.DEFERRED, None
        return T.BOUNCED, BounceClass.SOFT
    return T.BOUNCED, BounceClass.UNDETERMINED


def _reason(item: dict[str, Any]) -> str | None:
    # bounce and blocked: error_related_to (recipient, domain, spam, mailjet) and error, e.g. "user unknown".
    error, related = string_or_none(item.get("error")), string_or_none(item.get("error_related_to"))
    if error and related:
        return f"{related}: {error}"
    return error


def _metadata(item: dict[str, Any]) -> dict[str, str]:
    out = spread_json(item.get("Payload"), "Payload")
    custom_id = text_or_none(item.get("CustomID"))
    if custom_id:
        out["CustomID"] = custom_id
    return out


PROVIDER = Mailjet()
