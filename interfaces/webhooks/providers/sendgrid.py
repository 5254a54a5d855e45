"""SendGrid Event Webhook: batches of events as one JSON array, ECDSA-signed and/or behind HTTP Basic.

Events: https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
Signing: https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, ClassVar

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

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
    BasicAuth,
    WebhookSettings,
    address,
    check_basic_auth,
    check_freshness,
    flat,
    load_public_key,
    text_or_none,
    unix_or_none,
)

T = EmailEventType
SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature"
TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp"
# No tolerance is documented, retries span 24 h and nobody says whether they are re-signed: be generous
# and let the replay guard catch re-sent requests.
MAX_AGE, MAX_SKEW = 48 * 3600, 300
# (r, s) and (r, n - s) both verify, so the replay key is built from the low s: a flipped copy is a replay.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

TYPES = {
    "processed": T.ACCEPTED, "deferred": T.DEFERRED, "delivered": T.DELIVERED, "bounce": T.BOUNCED,
    "dropped": T.REJECTED, "open": T.OPENED, "click": T.CLICKED, "spamreport": T.COMPLAINED,
    "unsubscribe": T.UNSUBSCRIBED, "group_unsubscribe": T.UNSUBSCRIBED, "group_resubscribe": T.RESUBSCRIBED,
}  # fmt: skip
# A bounce's `type` decides its class; `bounce_classification` is advisory (design §12, note 4).
BOUNCE_CLASSES = {"bounce": BounceClass.HARD, "blocked": BounceClass.SOFT}
# On delivery events `ip` is our sending IP; only engagement events carry the recipient's.
ENGAGEMENT = frozenset({"open", "click", "spamreport", "unsubscribe", "group_unsubscribe", "group_resubscribe"})
# Custom args arrive flattened into the event: whatever SendGrid does not document is ours. `category`
# (SendGrid's tags) is left out on purpose so that it is kept with them.
KNOWN_FIELDS = frozenset({
    "email", "timestamp", "event", "sg_event_id", "sg_message_id", "smtp-id", "asm_group_id",
    "reason", "status", "response", "attempt", "type", "bounce_classification", "ip", "tls", "cert_err",
    "url", "url_offset", "useragent", "sg_machine_open", "sg_content_type", "sg_template_id",
    "sg_template_name", "marketing_campaign_id", "marketing_campaign_name", "marketing_campaign_version",
    "marketing_campaign_split_id", "singlesend_id", "singlesend_name", "template_id", "template_version_id",
    "template_name", "mc_stats", "mc_pod_id", "mc_auto_id", "mc_auto_name", "mc_auto_step_id", "phase_id",
    "send_at", "pool", "newsletter", "post_type", "nlvx_campaign_id", "nlvx_campaign_split_id",
    "nlvx_user_id", "sg_user_id",
})  # fmt: skip


class SendGridSettings(WebhookSettings, kw_only=True):
    """The Signed Event Webhook's verification key, HTTP Basic credentials in the URL, or both."""

    # Base64 DER SubjectPublicKeyInfo, as SendGrid shows it (no PEM armour needed).
    public_key: str | None = None
    basic_auth: BasicAuth | None = None

    def __post_init__(self) -> None:
        if self.public_key is None and self.basic_auth is None:
            raise ValueError("set public_key, basic_auth or both")
        if self.public_key is not None:
            _public_key(self.public_key)


class SendGrid:
    """SendGrid's Event Webhook."""

    NAME: ClassVar[str] = "sendgrid"
    CONTENT_TYPES: ClassVar[tuple[str, ...]] = ("application/json",)
    Settings: ClassVar[type[msgspec.Struct]] = SendGridSettings

    def verify(self, request: WebhookRequest, settings: SendGridSettings, ctx: VerifyContext) -> Verified:
        # When both are configured both must pass: Basic first, it is the cheaper check.
        if settings.basic_auth is not None:
            check_basic_auth(request.headers, settings.basic_auth)
        if settings.public_key is None:
            if settings.basic_auth is None:
                raise VerificationFailed("no SendGrid credentials are configured")
            return Verified(method="basic")
        try:
            key = _public_key(settings.public_key)
        except ValueError:
            raise VerificationFailed("the configured public_key is not a usable P-256 key") from None
        replay_key = _check_signature(request, key, ctx.now)
        method = "ecdsa-p256" + ("+basic" if settings.basic_auth else "")
        return Verified(method=method, replay_key=replay_key, replay_ttl=MAX_AGE + MAX_SKEW)

    def parse(self, request: WebhookRequest) -> Parsed:
        body = decode_json(request.body)
        if not isinstance(body, list):
            raise BadPayload(f"SendGrid posts a JSON array of events, not a JSON {type(body).__name__}")
        return [_event(item) for item in body]


def _check_signature(request: WebhookRequest, key: ec.EllipticCurvePublicKey, now: datetime) -> str:
    signature = request.headers.get(SIGNATURE_HEADER, "").strip()
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not signature or not timestamp:
        raise VerificationFailed("missing X-Twilio-Email-Event-Webhook-Signature or -Timestamp header")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise VerificationFailed("X-Twilio-Email-Event-Webhook-Timestamp is not unix seconds")
    check_freshness(int(timestamp), now, MAX_AGE, MAX_SKEW)
    try:
        der = base64.b64decode(signature, validate=True)
        # The signed bytes are the timestamp header exactly as sent, then the raw body.
        key.verify(der, timestamp.encode() + request.body, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
    except (ValueError, InvalidSignature):
        raise VerificationFailed("signature does not match the body and timestamp") from None
    return f"sendgrid:{r:x}:{min(s, P256_ORDER - s):x}"


def _public_key(text: str) -> ec.EllipticCurvePublicKey:
    key = load_public_key(text)
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("public_key is not an ECDSA P-256 key")
    return key


def _event(item: Any) -> NormalizedEvent | Quarantined:
    if not isinstance(item, dict):
        return Quarantined(reason="event is not a JSON object", item=item)
    name = item.get("event")
    if not isinstance(name, str) or not name:
        return Quarantined(reason="event has no `event` name", item=item)
    try:
        recipient = address(item.get("email"))
    except ValueError:
        # Account events (account_status_change) land here too: they concern no recipient.
        return Quarantined(reason=f"{name} event has no recipient address in `email`", item=item)
    occurred_at = unix_or_none(item.get("timestamp"))
    if occurred_at is None:
        return Quarantined(reason=f"{name} event has no valid unix `timestamp`", item=item)
    kind = TYPES.get(name, T.UNKNOWN)
    machine_open = item.get("sg_machine_open")
    return NormalizedEvent(
        type=kind,
        provider_event_type=name,
        recipient=recipient,
        occurred_at=occurred_at,
        # Delayed bounces lack sg_message_id; smtp-id is then the only message id they carry.
        provider_message_id=text_or_none(item.get("sg_message_id")) or text_or_none(item.get("smtp-id")),
        provider_event_id=text_or_none(item.get("sg_event_id")),
        bounce_class=_bounce_class(item) if kind is T.BOUNCED else None,
        click_url=text_or_none(item.get("url")),
        reason=text_or_none(item.get("reason")) or text_or_none(item.get("response")),
        smtp_code=text_or_none(item.get("status")),
        machine_open=machine_open if isinstance(machine_open, bool) else None,
        user_agent=text_or_none(item.get("useragent")),
        ip=text_or_none(item.get("ip")) if name in ENGAGEMENT else None,
        metadata=flat({key: value for key, value in item.items() if key not in KNOWN_FIELDS}),
        raw=item,
    )


def _bounce_class(item: dict[str, Any]) -> BounceClass:
    return BOUNCE_CLASSES.get(text_or_none(item.get("type")) or "", BounceClass.UNDETERMINED)


PROVIDER = SendGrid()
