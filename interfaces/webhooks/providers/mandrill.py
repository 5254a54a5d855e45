"""Mandrill (Mailchimp Transactional) webhooks: form-encoded `mandrill_events` batches, HMAC-SHA1 signed.

Format: https://mandrill.zendesk.com/hc/en-us/articles/360038740594-Webhook-Format
Signing: https://mailchimp.com/developer/transactional/guides/track-respond-activity-webhooks/
Sync events: https://mandrill.zendesk.com/hc/en-us/articles/360039233253
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Annotated, Any, ClassVar
from urllib.parse import parse_qsl

import msgspec

from domain.email_event import BounceClass, EmailEventType, NormalizedEvent, Quarantined
from interfaces.webhooks.provider import (
    BadPayload,
    Parsed,
    VerificationFailed,
    Verified,
    VerifyContext,
    WebhookRejected,
    WebhookRequest,
    decode_json,
)
from interfaces.webhooks.providers._common import (
    WebhookSettings,
    address,
    as_dict,
    first_text,
    flat,
    text_or_none,
    unix_or_none,
)

T = EmailEventType
# Mandrill probes a new webhook URL with HEAD, which the route answers; its fallback (an empty batch
# signed with the generic key "test-webhook") is refused, as anyone could sign it.

# `send` is the hand-off to the recipient's MTA; Mandrill has no separate delivered event (design §12).
TYPES = {
    "send": T.ACCEPTED, "deferral": T.DEFERRED, "hard_bounce": T.BOUNCED, "soft_bounce": T.BOUNCED,
    "open": T.OPENED, "click": T.CLICKED, "spam": T.COMPLAINED, "unsub": T.UNSUBSCRIBED, "reject": T.REJECTED,
}  # fmt: skip
BOUNCES = {"hard_bounce": BounceClass.HARD, "soft_bounce": BounceClass.SOFT}
# Sync events change the rejection denylist (called blacklist in older payloads); the allowlist is not ours.
SYNC = {
    ("blacklist", "add"): T.SUPPRESSION_ADDED, ("blacklist", "change"): T.SUPPRESSION_ADDED,
    ("blacklist", "remove"): T.SUPPRESSION_REMOVED, ("denylist", "add"): T.SUPPRESSION_ADDED,
    ("denylist", "change"): T.SUPPRESSION_ADDED, ("denylist", "remove"): T.SUPPRESSION_REMOVED,
}  # fmt: skip
SMTP_CODE = re.compile(r"(?:^|;)\s*([2-5]\d\d)\b")


class MandrillSettings(WebhookSettings, kw_only=True):
    """The webhook's own key and the URL exactly as configured in Mandrill (it is part of what is signed)."""

    webhook_key: Annotated[str, msgspec.Meta(min_length=1)]
    # Not the URL the request arrives at: a proxy may change scheme or host, and Mandrill signs its own copy.
    signed_url: Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$")]


class Mandrill:
    """Mandrill's message and sync event webhooks."""

    NAME: ClassVar[str] = "mandrill"
    CONTENT_TYPES: ClassVar[tuple[str, ...]] = ("application/x-www-form-urlencoded",)
    Settings: ClassVar[type[msgspec.Struct]] = MandrillSettings

    def verify(self, request: WebhookRequest, settings: MandrillSettings, ctx: VerifyContext) -> Verified:
        # No timestamp in the scheme, hence no freshness window or replay key: items dedup by content hash.
        supplied = request.headers.get("x-mandrill-signature", "").strip()
        if not supplied:
            raise VerificationFailed("missing X-Mandrill-Signature header")
        params = _form(request.body, VerificationFailed)
        signed = (settings.signed_url + "".join(k + v for k, v in sorted(params.items()))).encode()
        if _signed_with(settings.webhook_key, signed, supplied):
            return Verified(method="hmac-sha1")
        raise VerificationFailed("signature does not match the webhook key and signed_url")

    def parse(self, request: WebhookRequest) -> Parsed:
        params = _form(request.body, BadPayload)
        if "mandrill_events" not in params:
            raise BadPayload("body has no mandrill_events parameter")
        events = decode_json(params["mandrill_events"].encode())
        if not isinstance(events, list):
            raise BadPayload(f"mandrill_events is a JSON {type(events).__name__}, not an array")
        return [_event(item) for item in events]


def _form(body: bytes, error: type[WebhookRejected]) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True, max_num_fields=16)
    except ValueError:
        raise error("body is not application/x-www-form-urlencoded UTF-8") from None
    params = dict(pairs)
    if len(params) != len(pairs):
        raise error("body repeats a form parameter")  # which copy was signed would be a guess
    return params


def _signed_with(key: str, signed: bytes, supplied: str) -> bool:
    expected = base64.b64encode(hmac.new(key.encode(), signed, hashlib.sha1).digest())
    return hmac.compare_digest(expected, supplied.encode())


def _event(item: Any) -> NormalizedEvent | Quarantined:
    if not isinstance(item, dict):
        return Quarantined(reason="event is not a JSON object", item=item)
    msg, entry = as_dict(item.get("msg")), as_dict(item.get("reject")) or as_dict(item.get("entry"))
    name, sync = item.get("event"), item.get("type")
    diag = first_text(msg.get("diag"), *(as_dict(e).get("diag") for e in reversed(_list(msg.get("smtp_events")))))
    if isinstance(name, str) and name:
        kind, label, bounce_class = TYPES.get(name, T.UNKNOWN), name, BOUNCES.get(name)
        reason = first_text(diag, msg.get("bounce_description"), as_dict(msg.get("reject")).get("reason"))
    elif isinstance(sync, str) and sync:
        action = text_or_none(item.get("action")) or ""
        kind, label, bounce_class = SYNC.get((sync, action), T.UNKNOWN), f"{sync}.{action}", None
        reason = first_text(entry.get("reason"), entry.get("detail"))
    else:
        return Quarantined(reason="item has neither an `event` nor a sync `type`", item=item)
    try:
        recipient = address(msg.get("email") if "email" in msg else entry.get("email"))
    except ValueError:
        return Quarantined(reason=f"{label} event has no recipient address", item=item)
    occurred_at = unix_or_none(item.get("ts"))
    if occurred_at is None:
        return Quarantined(reason=f"{label} event has no valid unix `ts`", item=item)
    code = SMTP_CODE.search(diag) if diag else None
    return NormalizedEvent(
        type=kind,
        provider_event_type=label,
        recipient=recipient,
        occurred_at=occurred_at,
        provider_message_id=text_or_none(item.get("_id")) or text_or_none(msg.get("_id")),
        bounce_class=bounce_class,
        click_url=text_or_none(item.get("url")),
        reason=reason,
        smtp_code=code.group(1) if code else None,
        user_agent=text_or_none(item.get("user_agent")),
        ip=text_or_none(item.get("ip")),
        metadata=flat(msg.get("metadata"), tags=msg.get("tags")),
        # No event id at all: the item's canonical hash is the dedup key, so repeated opens stay distinct.
        raw=item,
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


PROVIDER = Mandrill()
