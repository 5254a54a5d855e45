"""Amazon SES events delivered by an Amazon SNS HTTP/S subscription.

SNS: https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html (signing) and
https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html (envelope). Its ``Message`` is a JSON
string holding one SES event (``eventType``, or ``notificationType`` for identity notifications) that may
concern several recipients: https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar

import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from domain.email_event import BounceClass, EmailEventType, NormalizedEvent, Quarantined
from interfaces.webhooks import provider as wh
from interfaces.webhooks.provider import BadPayload, Handshake, Parsed, VerificationFailed, Verified, VerifyContext
from interfaces.webhooks.providers._common import WebhookSettings, address, check_freshness, iso_or_none, text_or_none

T = EmailEventType
# SNS sets no window; retries keep the Timestamp and end within 3,600 s, so an hour; 5 min for clock skew.
MAX_AGE, MAX_AHEAD = 3600, 300
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
# Scheme, SNS host and a .pem path in one strict pattern: no user info, port, query, fragment or odd characters.
_CERT_URL = re.compile(r"\Ahttps://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[A-Za-z0-9._/-]*\.pem\Z")
_CertUrl = Annotated[str, msgspec.Meta(pattern=_CERT_URL.pattern)]
_Pem = Annotated[str, msgspec.Meta(pattern="-----BEGIN CERTIFICATE-----")]
_NOTIFICATION = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")  # signed in this order
_CONFIRM = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_SIGNED = dict(Notification=_NOTIFICATION, SubscriptionConfirmation=_CONFIRM, UnsubscribeConfirmation=_CONFIRM)
_HANDSHAKE = {"topic_arn": "TopicArn", "subscribe_url": "SubscribeURL", "token": "Token", "message_id": "MessageId"}
# eventType -> (our type, its detail object, its recipient list; without one, every mail.destination).
_EVENTS = {
    "Bounce": (T.BOUNCED, "bounce", "bouncedRecipients"), "Delivery": (T.DELIVERED, "delivery", "recipients"),
    "Complaint": (T.COMPLAINED, "complaint", "complainedRecipients"), "Send": (T.ACCEPTED, "send", None),
    "DeliveryDelay": (T.DEFERRED, "deliveryDelay", "delayedRecipients"), "Reject": (T.REJECTED, "reject", None),
    "Open": (T.OPENED, "open", None), "Click": (T.CLICKED, "click", None),
    "Rendering Failure": (T.FAILED, "failure", None), "Subscription": (T.UNKNOWN, "subscription", None),
}  # fmt: skip
_SUPPRESSED = ("Suppressed", "OnAccountSuppressionList")  # permanent bounces SES never even tried
_BOUNCES = {"Permanent": BounceClass.HARD, "Transient": BounceClass.SOFT}
_REASONS = ("diagnosticCode", "smtpResponse", "reason", "errorMessage", "complaintFeedbackType", "bounceSubType")


def _signing_key(
    url: str, pinned: dict[str, str], fetch: Callable[[str], bytes] | None, now: datetime
) -> rsa.RSAPublicKey:
    if not _CERT_URL.search(url):
        raise VerificationFailed("SigningCertURL is not an https Amazon SNS certificate URL")
    if url not in pinned and fetch is None:
        raise VerificationFailed("certificate fetching is not configured")
    try:
        pem = pinned[url].encode() if url in pinned else fetch(url)
        certificate = x509.load_pem_x509_certificate(pem)
        key = certificate.public_key()
    except Exception as exc:  # whatever the fetcher or the PEM does, the request is refused, not a 500
        raise exc if isinstance(exc, VerificationFailed) else VerificationFailed("no usable certificate") from None
    # An expired (or not yet valid) certificate signs nothing: a leaked old key must not keep working.
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise VerificationFailed("the signing certificate is expired or not yet valid")
    if not isinstance(key, rsa.RSAPublicKey):
        raise VerificationFailed("the signing certificate does not hold an RSA key")
    return key


class AmazonSesSettings(WebhookSettings, kw_only=True):
    """The SNS topics allowed to post here, and certificates pinned by their SigningCertURL."""

    allowed_topic_arns: Annotated[list[Annotated[str, msgspec.Meta(min_length=1)]], msgspec.Meta(min_length=1)]
    pinned_certificates: dict[_CertUrl, _Pem] = {}


class AmazonSes:
    """SES event publishing (and identity notifications) over signed SNS HTTP/S deliveries."""

    NAME: ClassVar[str] = "amazon_ses"
    CONTENT_TYPES: ClassVar[tuple[str, ...]] = ("text/plain", "application/json")
    Settings: ClassVar[type[msgspec.Struct]] = AmazonSesSettings

    def verify(self, request: wh.WebhookRequest, settings: AmazonSesSettings, ctx: VerifyContext) -> Verified:
        try:
            envelope = wh.decode_json(request.body)
        except BadPayload as exc:
            raise VerificationFailed(f"not an SNS message: {exc.message}") from None
        kind = envelope.get("Type") if isinstance(envelope, dict) else None
        if not isinstance(kind, str) or kind not in _SIGNED:
            raise VerificationFailed("not an SNS message: Type is missing or unknown")
        # Subject is signed only when the publisher set one.
        signed = {k: envelope.get(k) for k in _SIGNED[kind] if k != "Subject" or envelope.get(k) is not None}
        scheme = {k: envelope.get(k) for k in ("SignatureVersion", "Signature", "SigningCertURL")}
        if missing := [k for k, v in (signed | scheme).items() if not isinstance(v, str)]:
            raise VerificationFailed(f"SNS message lacks {', '.join(missing)}")
        if signed["TopicArn"] not in settings.allowed_topic_arns:
            raise VerificationFailed("TopicArn is not one of the allowed topics")
        if scheme["SignatureVersion"] not in _HASHES:
            raise VerificationFailed("SignatureVersion must be 1 or 2")
        if (sent_at := iso_or_none(signed["Timestamp"])) is None:
            raise VerificationFailed("Timestamp is not an ISO 8601 instant")
        check_freshness(sent_at.timestamp(), ctx.now, MAX_AGE, MAX_AHEAD)
        key = _signing_key(scheme["SigningCertURL"], settings.pinned_certificates, ctx.fetch_certificate, ctx.now)
        try:
            canonical = "".join(f"{k}\n{v}\n" for k, v in signed.items()).encode()
            signature = base64.b64decode(scheme["Signature"], validate=True)
            key.verify(signature, canonical, padding.PKCS1v15(), _HASHES[scheme["SignatureVersion"]]())
        except (ValueError, InvalidSignature):  # UnicodeEncodeError (lone surrogates) is a ValueError
            raise VerificationFailed("Signature does not match the SNS message") from None
        # No replay key: a replayed message carries its MessageId, which the events' dedup keys hold.
        return Verified(method=f"sns-signature-v{scheme['SignatureVersion']}")

    def parse(self, request: wh.WebhookRequest) -> Parsed | Handshake:
        envelope = wh.decode_json(request.body)
        kind = envelope.get("Type") if isinstance(envelope, dict) else None
        if not isinstance(kind, str) or kind not in _SIGNED or not isinstance(envelope.get("MessageId"), str):
            raise BadPayload("body is not an SNS message with a Type and a MessageId")
        if kind == "Notification":
            return _events(envelope)
        details = {ours: envelope.get(theirs) for ours, theirs in _HANDSHAKE.items()}
        if not all(isinstance(v, str) for v in details.values()):
            raise BadPayload(f"{kind} lacks TopicArn, SubscribeURL or Token")
        return Handshake(kind=re.sub(r"(?<=.)([A-Z])", r"_\1", kind).lower(), details=details)


def _events(envelope: dict[str, Any]) -> Parsed:
    message = envelope.get("Message")
    try:
        event = wh.decode_json(message.encode("utf-8", "surrogatepass")) if isinstance(message, str) else None
    except BadPayload:
        event = None  # e.g. "Successfully validated SNS topic for Amazon SES event publishing."
    name = event.get("eventType", event.get("notificationType")) if isinstance(event, dict) else None
    mail = event.get("mail") if isinstance(event, dict) else None
    if not isinstance(name, str) or not isinstance(mail, dict):
        return [Quarantined("Message is not an SES event (eventType or notificationType, and mail)", message)]
    kind, detail_key, list_key = _EVENTS.get(name, (T.UNKNOWN, name[:1].lower() + name[1:], None))
    detail = event.get(detail_key) if isinstance(event.get(detail_key), dict) else {}
    entries = detail.get(list_key) if list_key else mail.get("destination")
    stamp = next((s for s in (detail.get("timestamp"), mail.get("timestamp"), envelope.get("Timestamp")) if s), "")
    if (occurred_at := iso_or_none(stamp)) is None:
        return [Quarantined("event timestamp is missing or not ISO 8601", event)]
    if not isinstance(entries, list) or not entries:
        return [Quarantined(f"{name} event lists no recipients", event)]
    kind, bounce_class = _classify(name, kind, detail)
    tags = mail.get("tags") if isinstance(mail.get("tags"), dict) else {}
    common = {
        "type": kind, "provider_event_type": name, "occurred_at": occurred_at, "bounce_class": bounce_class,
        "provider_message_id": text_or_none(mail.get("messageId")), "provider_event_id": envelope["MessageId"],
        "click_url": text_or_none(detail.get("link")), "ip": text_or_none(detail.get("ipAddress")),
        "user_agent": text_or_none(detail.get("userAgent")), "raw": event,
        "metadata": {k: ",".join(t for x in (v if isinstance(v, list) else [v]) if (t := text_or_none(x)))
                     for k, v in tags.items()},
    }  # fmt: skip
    results: Parsed = []
    for index, item in enumerate(entries):
        entry = item if isinstance(item, dict) else {"emailAddress": item}
        try:
            recipient = address(entry.get("emailAddress"))
        except ValueError:
            results.append(Quarantined(f"recipient {index} of the {name} event is not an email address", event))
            continue
        reason = next((t for k in _REASONS if (t := text_or_none(entry.get(k)) or text_or_none(detail.get(k)))), None)
        code = text_or_none(entry.get("status"))  # the enhanced status ("5.1.1") of a bounced or delayed recipient
        results.append(NormalizedEvent(recipient=recipient, reason=reason, smtp_code=code, **common))
    return results


def _classify(name: str, kind: EmailEventType, detail: dict[str, Any]) -> tuple[EmailEventType, BounceClass | None]:
    if name == "Bounce":
        bounce_type = text_or_none(detail.get("bounceType")) or "Undetermined"
        if bounce_type == "Permanent" and detail.get("bounceSubType") in _SUPPRESSED:
            return T.REJECTED, None
        return kind, _BOUNCES.get(bounce_type, BounceClass.UNDETERMINED)
    if name != "Subscription":
        return kind, None
    # Only what changed counts: a topic already opted out stays so when another one is opted into.
    new, old = (p if isinstance(p := detail.get(f"{k}TopicPreferences"), dict) else {} for k in ("new", "old"))
    before = _topics(old)
    changed = {status for topic, status in _topics(new).items() if before.get(topic) != status}
    if new.get("unsubscribeAll") is True or "OptOut" in changed:
        return T.UNSUBSCRIBED, None
    return (T.RESUBSCRIBED if old.get("unsubscribeAll") is True or "OptIn" in changed else T.UNKNOWN), None


def _topics(preferences: dict[str, Any]) -> dict[str, str | None]:
    listed = preferences.get("topicSubscriptionStatus")
    items = [t for t in listed if isinstance(t, dict)] if isinstance(listed, list) else []
    return {str(t.get("topicName")): text_or_none(t.get("subscriptionStatus")) for t in items}


PROVIDER = AmazonSes()
