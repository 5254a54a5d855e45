"""Postmark webhooks: one JSON record per request, authenticated only by HTTP Basic credentials in the URL.

Overview: https://postmarkapp.com/developer/webhooks/webhooks-overview
Records: https://postmarkapp.com/developer/webhooks/bounce-webhook (and delivery-, open-tracking-,
click-, spam-complaint-, subscription-change-webhook on the same site)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import msgspec

from domain.email_event import BounceClass, EmailEventType, NormalizedEvent, Quarantined
from interfaces.webhooks.provider import BadPayload, Parsed, Verified, VerifyContext, WebhookRequest, decode_json
from interfaces.webhooks.providers._common import (
    BasicAuth,
    WebhookSettings,
    address,
    as_text,
    check_credential,
    flat,
    iso_or_none,
    text_or_none,
)

T = EmailEventType
HARD, SOFT, UNDETERMINED = BounceClass.HARD, BounceClass.SOFT, BounceClass.UNDETERMINED

RECORDS = {"Delivery": T.DELIVERED, "SpamComplaint": T.COMPLAINED, "Open": T.OPENED, "Click": T.CLICKED}
# Where each record keeps its time; a record type we do not know is tried against all of them.
TIMES = {
    "Delivery": "DeliveredAt", "Bounce": "BouncedAt", "SpamComplaint": "BouncedAt", "Open": "ReceivedAt",
    "Click": "ReceivedAt", "SubscriptionChange": "ChangedAt",
}  # fmt: skip
# Bounce `Type` → normalized (design §12). Anything else (AutoResponder, AddressChange, Subscribe,
# ChallengeVerification, OpenRelayTest, InboundError) is not a delivery outcome: kept as unknown.
BOUNCES: dict[str, tuple[EmailEventType, BounceClass | None]] = {
    "HardBounce": (T.BOUNCED, HARD), "SoftBounce": (T.BOUNCED, SOFT), "Blocked": (T.BOUNCED, SOFT),
    "DMARCPolicy": (T.BOUNCED, SOFT), "SpamNotification": (T.BOUNCED, SOFT), "VirusNotification": (T.BOUNCED, SOFT),
    "Unknown": (T.BOUNCED, UNDETERMINED), "Transient": (T.DEFERRED, None), "DnsError": (T.DEFERRED, None),
    "BadEmailAddress": (T.REJECTED, None), "ManuallyDeactivated": (T.REJECTED, None),
    "Unconfirmed": (T.REJECTED, None), "SMTPApiError": (T.FAILED, None), "TemplateRenderingFailed": (T.FAILED, None),
    "SpamComplaint": (T.COMPLAINED, None),
    # The recipient replied asking to be removed: honour it like a list unsubscribe.
    "Unsubscribe": (T.UNSUBSCRIBED, None),
}  # fmt: skip
# `TypeCode` names the same types; used when `Type` is missing or unfamiliar.
TYPE_CODES = {
    1: "HardBounce", 2: "Transient", 16: "Unsubscribe", 32: "Subscribe", 64: "AutoResponder",
    128: "AddressChange", 256: "DnsError", 512: "SpamNotification", 1024: "OpenRelayTest", 2048: "Unknown",
    4096: "SoftBounce", 8192: "VirusNotification", 16384: "ChallengeVerification", 100000: "BadEmailAddress",
    100001: "SpamComplaint", 100002: "ManuallyDeactivated", 100003: "Unconfirmed", 100006: "Blocked",
    100007: "SMTPApiError", 100008: "InboundError", 100009: "DMARCPolicy", 100010: "TemplateRenderingFailed",
}  # fmt: skip
KNOWN_TYPES = frozenset(TYPE_CODES.values())
# Only bounces and spam complaints carry an `ID`.
WITH_ID = frozenset({"Bounce", "SpamComplaint"})


class PostmarkSettings(WebhookSettings, kw_only=True):
    """The HTTP Basic credentials embedded in the webhook URL (Postmark signs nothing)."""

    basic_auth: BasicAuth


class Postmark:
    """Postmark's outbound message-stream webhooks."""

    NAME: ClassVar[str] = "postmark"
    CONTENT_TYPES: ClassVar[tuple[str, ...]] = ("application/json",)
    Settings: ClassVar[type[msgspec.Struct]] = PostmarkSettings

    def verify(self, request: WebhookRequest, settings: PostmarkSettings, ctx: VerifyContext) -> Verified:
        # No timestamp in the scheme, hence no freshness window or replay key: records dedup by id or hash.
        return check_credential(request.headers, settings.basic_auth)

    def parse(self, request: WebhookRequest) -> Parsed:
        record = decode_json(request.body)
        if not isinstance(record, dict):
            raise BadPayload(f"Postmark posts one JSON object per record, not a JSON {type(record).__name__}")
        return [_event(record)]


def _event(record: dict[str, Any]) -> NormalizedEvent | Quarantined:
    record_type = record.get("RecordType")
    if not isinstance(record_type, str) or not record_type:
        return Quarantined(reason="record has no RecordType", item=record)
    kind, bounce_class, label = _classify(record_type, record)
    try:
        # Bounces and complaints name the recipient `Email`, the other records `Recipient`.
        recipient = address(record["Recipient"] if record.get("Recipient") is not None else record.get("Email"))
    except ValueError:
        return Quarantined(reason=f"{record_type} record has no recipient address", item=record)
    occurred_at = _instant(record, record_type)
    if occurred_at is None:
        return Quarantined(reason=f"{record_type} record has no ISO 8601 time with an offset", item=record)
    geo = record.get("Geo")
    return NormalizedEvent(
        type=kind,
        provider_event_type=label,
        recipient=recipient,
        occurred_at=occurred_at,
        provider_message_id=text_or_none(record.get("MessageID")),
        # Bounce IDs exceed 2^53: text_or_none keeps the exact integer.
        provider_event_id=text_or_none(record.get("ID")) if record_type in WITH_ID else None,
        bounce_class=bounce_class,
        click_url=text_or_none(record.get("OriginalLink")),
        reason=_reason(record, record_type),
        user_agent=text_or_none(record.get("UserAgent")),
        ip=text_or_none(geo.get("IP")) if isinstance(geo, dict) else None,
        metadata=_metadata(record),
        raw=record,
    )


def _classify(record_type: str, record: dict[str, Any]) -> tuple[EmailEventType, BounceClass | None, str]:
    if record_type == "Bounce":
        name = _bounce_type(record)
        kind, bounce_class = BOUNCES.get(name or "", (T.UNKNOWN, None))
        return kind, bounce_class, f"Bounce.{name}" if name else "Bounce"
    if record_type == "SubscriptionChange":
        return _subscription(record), None, record_type
    return RECORDS.get(record_type, T.UNKNOWN), None, record_type


def _bounce_type(record: dict[str, Any]) -> str | None:
    name, code = record.get("Type"), record.get("TypeCode")
    if isinstance(name, str) and name in KNOWN_TYPES:
        return name
    if isinstance(code, int) and not isinstance(code, bool) and code in TYPE_CODES:
        return TYPE_CODES[code]
    return name if isinstance(name, str) and name else None


def _subscription(record: dict[str, Any]) -> EmailEventType:
    suppress, why = record.get("SuppressSending"), record.get("SuppressionReason")
    if suppress is False:
        return T.RESUBSCRIBED
    if suppress is not True:
        return T.UNKNOWN
    if why == "ManualSuppression":
        return T.UNSUBSCRIBED
    # HardBounce / SpamComplaint (or a reason we do not know): Postmark stopped sending on its own.
    return T.SUPPRESSION_ADDED


def _instant(record: dict[str, Any], record_type: str) -> datetime | None:
    fields = [TIMES[record_type]] if record_type in TIMES else list(dict.fromkeys(TIMES.values()))
    value = next((v for v in (record.get(f) for f in fields) if v is not None), None)
    return iso_or_none(value)


def _reason(record: dict[str, Any], record_type: str) -> str | None:
    if record_type == "SubscriptionChange":
        return text_or_none(record.get("SuppressionReason"))
    if record_type in WITH_ID:
        # Details holds the receiving server's answer; Description only explains the bounce type.
        return text_or_none(record.get("Details")) or text_or_none(record.get("Description"))
    return None


def _metadata(record: dict[str, Any]) -> dict[str, str]:
    found = flat(record.get("Metadata"))
    if text_or_none(record.get("Tag")):
        found.setdefault("tag", as_text(record["Tag"]))
    return found


PROVIDER = Postmark()
