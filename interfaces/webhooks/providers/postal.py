"""Postal (self-hosted MTA) webhooks: https://docs.postalserver.io/developer/webhooks

One event per request: ``{"event", "timestamp", "uuid", "payload"}``, signed as a whole with the
server's RSA key: ``X-Postal-Signature-256`` (PKCS#1 v1.5, SHA-256) and, for older receivers,
``X-Postal-Signature`` (SHA-1). There is no freshness check: nothing outside the signed body carries
a time, and Postal's retries (up to ~36 minutes later) resend the original body and its original
``timestamp``. A replayed body is harmless: its ``uuid`` makes it a duplicate in the event store.
"""

from __future__ import annotations

import base64
import re
from typing import Any, ClassVar

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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
    load_public_key,
    string_or_none,
    text_or_none,
    unix_or_none,
)

T = EmailEventType
# The strongest header present wins; SHA-1 is only consulted when Postal sent no SHA-256 signature.
_HEADERS = (("x-postal-signature-256", hashes.SHA256, "postal-rsa-sha256"),
            ("x-postal-signature", hashes.SHA1, "postal-rsa-sha1"))  # fmt: skip
# Message events -> (our type, bounce class). MessageHeld: Postal kept it back (suppression list,
# send limit, spam), so it was never attempted. MessageBounced: an asynchronous bounce report whose
# permanence Postal does not tell.
_MESSAGE_EVENTS = {
    "MessageSent": (T.DELIVERED, None),
    "MessageDelayed": (T.DEFERRED, None),
    "MessageDeliveryFailed": (T.BOUNCED, BounceClass.HARD),
    "MessageHeld": (T.REJECTED, None),
    "MessageBounced": (T.BOUNCED, BounceClass.UNDETERMINED),
    "MessageLinkClicked": (T.CLICKED, None),
    "MessageLoaded": (T.OPENED, None),
}
_SMTP_REPLY = re.compile(r"([245][0-9]{2})(?:[ -]|$)")


def _public_key(text: str) -> rsa.RSAPublicKey:
    # Postal shows the key as base64 DER; a full PEM block is accepted too.
    key = load_public_key(text)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("public_key is not an RSA key")
    return key


class PostalSettings(WebhookSettings, kw_only=True):
    """The public half of the Postal server's signing key, as Postal shows it (base64 DER)."""

    public_key: str
    # Postal 3 signs with SHA-256 as well; once every sender does, refuse SHA-1-only deliveries (SHA-1 is
    # broken for collisions, and keeping it accepted lets a stripped SHA-256 header downgrade the check).
    require_sha256: bool = False

    def __post_init__(self) -> None:
        _public_key(self.public_key)


class Postal:
    """Postal's signed message and server event webhooks."""

    NAME: ClassVar[str] = "postal"
    CONTENT_TYPES: ClassVar[tuple[str, ...]] = ("application/json",)
    Settings: ClassVar[type[msgspec.Struct]] = PostalSettings

    def verify(self, request: WebhookRequest, settings: PostalSettings, ctx: VerifyContext) -> Verified:
        found = next((h for h in _HEADERS if h[0] in request.headers), None)
        if found is None:
            raise VerificationFailed("missing X-Postal-Signature-256 (or X-Postal-Signature) header")
        header, algorithm, method = found
        if settings.require_sha256 and algorithm is hashes.SHA1:
            raise VerificationFailed("X-Postal-Signature-256 is required; a SHA-1 signature alone is refused")
        try:
            key = _public_key(settings.public_key)
            signature = base64.b64decode(request.headers[header].strip(), validate=True)
            key.verify(signature, request.body, padding.PKCS1v15(), algorithm())
        except (ValueError, InvalidSignature):
            raise VerificationFailed(f"{header} does not match the body and the configured public key") from None
        return Verified(method=method)

    def parse(self, request: WebhookRequest) -> Parsed:
        body = decode_json(request.body)
        if not isinstance(body, dict):
            raise BadPayload("body must be a JSON object with event, timestamp, uuid and payload")
        return [_event(body)]


def _event(body: dict[str, Any]) -> NormalizedEvent | Quarantined:
    name, payload = body.get("event"), body.get("payload")
    if not isinstance(name, str) or not isinstance(payload, dict):
        return Quarantined("event is not a string or payload is not an object", body)
    occurred_at = unix_or_none(payload.get("timestamp", body.get("timestamp")))
    if occurred_at is None:
        return Quarantined("timestamp is missing or not unix seconds", body)
    message = payload.get("message", payload.get("original_message"))
    message = message if isinstance(message, dict) else {}
    kind, bounce_class = _MESSAGE_EVENTS.get(name, (T.UNKNOWN, None))
    if message.get("direction") == "incoming":
        # Postal delivering *received* mail to an endpoint: not about mail we sent, so it must not
        # bounce or suppress anyone.
        kind, bounce_class = T.UNKNOWN, None
    try:
        # Server events (DomainDNSError, SendLimitApproaching/Exceeded) concern no message and no one.
        recipient = address(message.get("to")) if message or name in _MESSAGE_EVENTS else ""
    except ValueError:
        return Quarantined(f"{name} has no message.to recipient address", body)
    output = string_or_none(payload.get("output"), strip=True)
    reply = _SMTP_REPLY.match(output or "")
    tag = text_or_none(message.get("tag"))
    return NormalizedEvent(
        type=kind,
        provider_event_type=name,
        recipient=recipient,
        occurred_at=occurred_at,
        # message.id is Postal's per-recipient id, the one its send API returns.
        provider_message_id=text_or_none(message.get("id")),
        provider_event_id=text_or_none(body.get("uuid")),
        bounce_class=bounce_class,
        click_url=string_or_none(payload.get("url"), strip=True),
        reason="; ".join(t for t in (string_or_none(payload.get("details"), strip=True), output) if t) or None,
        smtp_code=reply.group(1) if reply else None,
        user_agent=string_or_none(payload.get("user_agent"), strip=True),
        ip=string_or_none(payload.get("ip_address"), strip=True),
        metadata={"tag": tag} if tag else {},
        raw=body,
    )


PROVIDER = Postal()
