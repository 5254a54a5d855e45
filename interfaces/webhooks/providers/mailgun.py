"""Mailgun webhooks: one JSON event per request, with an HMAC-SHA256 signature block inside the body.

Events: https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/webhook-payloads
Signing: https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks
"""

from __future__ import annotations

import hashlib
import hmac
from email.utils import getaddresses
from typing import Annotated, Any, ClassVar

import msgspec

from domain.email_event import BounceClass, EmailEventType, NormalizedEvent, Quarantined
from interfaces.webhooks.provider import (
    BadPayload,
    Parsed,
    VerificationFailed,
    Verified,
    VerifyContext,
    WebhookRequest,
    decode_json,
)
from interfaces.webhooks.providers._common import (
    WebhookSettings,
    address,
    as_dict,
    check_freshness,
    first_text,
    flat,
    text_or_none,
    unix_or_none,
)

T = EmailEventType
# No tolerance is documented and nobody says whether retries are re-signed: be generous and let the
# replay guard (keyed on the one-use token) catch re-sent requests.
MAX_AGE, MAX_SKEW = 48 * 3600, 300

TYPES = {
    "accepted": T.ACCEPTED, "delivered": T.DELIVERED, "rejected": T.REJECTED, "opened": T.OPENED,
    "clicked": T.CLICKED, "unsubscribed": T.UNSUBSCRIBED, "complained": T.COMPLAINED,
}  # fmt: skip


class MailgunSettings(WebhookSettings, kw_only=True):
    """The HTTP webhook signing key (not the API key)."""

    signing_key: Annotated[str, msgspec.Meta(min_length=1)]


class Mailgun:
    """Mailgun's webhooks (the JSON format, since 2018)."""

    NAME: ClassVar[str] = "mailgun"
    CONTENT_TYPES: ClassVar[tuple[str, ...]] = ("application/json",)
    Settings: ClassVar[type[msgspec.Struct]] = MailgunSettings

    def verify(self, request: WebhookRequest, settings: MailgunSettings, ctx: VerifyContext) -> Verified:
        # The signature lives in the body, so the JSON is decoded to find it; the events are not read.
        block = _signature_block(request.body)
        timestamp, token = text_or_none(block.get("timestamp")), text_or_none(block.get("token"))
        if not timestamp or not token:
            raise VerificationFailed("signature block lacks its timestamp or token")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise VerificationFailed("signature timestamp is not unix seconds")
        check_freshness(int(timestamp), ctx.now, MAX_AGE, MAX_SKEW)
        # Only timestamp + token are signed, never the event: the token is what makes a request unique.
        expected = hmac.new(settings.signing_key.encode(), (timestamp + token).encode(), hashlib.sha256)
        wanted = expected.hexdigest().encode()
        # Subaccount domains add `parent-signature`, made the same way with the primary account's key.
        supplied = [s.encode() for k in ("signature", "parent-signature") if isinstance(s := block.get(k), str)]
        if not any(hmac.compare_digest(wanted, s) for s in supplied):
            raise VerificationFailed("signature does not match the signing key")
        return Verified(method="hmac-sha256", replay_key="mailgun:" + token, replay_ttl=MAX_AGE + MAX_SKEW)

    def parse(self, request: WebhookRequest) -> Parsed:
        body = decode_json(request.body)
        if not isinstance(body, dict) or not isinstance(body.get("event-data"), dict):
            raise BadPayload("Mailgun posts one JSON object holding an `event-data` object")
        return [_event(body["event-data"])]


def _signature_block(body: bytes) -> dict[str, Any]:
    try:
        payload = decode_json(body)
    except BadPayload as exc:
        raise VerificationFailed(f"cannot read the signature: {exc.message}") from None
    block = payload.get("signature") if isinstance(payload, dict) else None
    if not isinstance(block, dict):
        raise VerificationFailed("body has no `signature` block")
    return block


def _event(data: dict[str, Any]) -> NormalizedEvent | Quarantined:
    name = data.get("event")
    if not isinstance(name, str) or not name:
        return Quarantined(reason="event-data has no `event` name", item=data)
    headers = as_dict(as_dict(data.get("message")).get("headers"))
    recipient = _recipient(data.get("recipient"), headers.get("to"))
    if recipient is None:
        return Quarantined(reason=f"{name} event has no recipient address", item=data)
    occurred_at = unix_or_none(data.get("timestamp"))
    if occurred_at is None:
        return Quarantined(reason=f"{name} event has no valid unix `timestamp`", item=data)
    kind, bounce_class = _classify(name, data)
    status, reject = as_dict(data.get("delivery-status")), as_dict(data.get("reject"))
    return NormalizedEvent(
        type=kind,
        provider_event_type=name,
        recipient=recipient,
        occurred_at=occurred_at,
        provider_message_id=text_or_none(headers.get("message-id")),
        # Unique only within a day, but paired with the recipient that is Mailgun's own dedup key.
        provider_event_id=text_or_none(data.get("id")),
        bounce_class=bounce_class,
        click_url=text_or_none(data.get("url")),
        reason=first_text(status.get("message"), status.get("description"), reject.get("reason"), data.get("reason")),
        smtp_code=text_or_none(status.get("code")),
        user_agent=text_or_none(as_dict(data.get("client-info")).get("user-agent")),
        ip=text_or_none(data.get("ip")),
        metadata=flat(data.get("user-variables"), tags=data.get("tags")),
        raw=data,
    )


def _classify(name: str, data: dict[str, Any]) -> tuple[EmailEventType, BounceClass | None]:
    if name != "failed":
        return TYPES.get(name, T.UNKNOWN), None
    if data.get("severity") == "temporary":
        return T.DEFERRED, None  # Mailgun keeps retrying
    # suppress-bounce, -unsubscribe, -complaint: never attempted, the address was on a suppression list.
    if (text_or_none(data.get("reason")) or "").startswith("suppress"):
        return T.REJECTED, None
    if data.get("severity") == "permanent":
        return T.BOUNCED, BounceClass.HARD
    return T.BOUNCED, BounceClass.UNDETERMINED


def _recipient(recipient: Any, to_header: Any) -> str | None:
    try:
        if recipient is not None:
            return address(recipient)
        # `rejected` events carry no recipient: the To header names it when it names exactly one.
        found = getaddresses([to_header]) if isinstance(to_header, str) else []
        return address(found[0][1]) if len(found) == 1 else None
    except (ValueError, IndexError):
        return None


PROVIDER = Mailgun()
