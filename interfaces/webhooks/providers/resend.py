"""Resend email events, delivered by Svix.

Docs: https://resend.com/docs/webhooks/introduction (payloads: https://resend.com/docs/webhooks/event-types;
signing: https://resend.com/docs/webhooks/verify-webhooks-requests). Svix signs with the Standard
Webhooks scheme under ``svix-id``/``-timestamp``/``-signature`` headers (``_standard_webhooks``).

One event per request: ``{"type", "created_at", "data"}``. ``svix-id`` is the event id (it stays the
same on retries, while ``svix-timestamp`` changes). ``data.to`` is a list, so one event is produced per
recipient; Resend itself sends one webhook per recipient of a multi-recipient email without saying
which one it is about (as django-anymail notes), so such emails yield an event for every ``to``.
Events about no address at all (``domain.*``, ``inbox.*``) are kept as ``unknown`` with an empty
recipient.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from domain.email_event import BounceClass, EmailEventType, NormalizedEvent, Quarantined
from interfaces.webhooks.provider import BadPayload, Parsed, Verified, VerifyContext, WebhookRequest, decode_json
from interfaces.webhooks.providers import _standard_webhooks as scheme
from interfaces.webhooks.providers._common import address, as_dict, flat, iso_or_none, string_or_none, text_or_none

T = EmailEventType
_TYPES = {
    "email.sent": T.ACCEPTED,
    "email.scheduled": T.ACCEPTED,  # accepted now, to be sent later
    "email.delivered": T.DELIVERED,
    "email.delivery_delayed": T.DEFERRED,
    "email.complained": T.COMPLAINED,
    "email.bounced": T.BOUNCED,
    "email.opened": T.OPENED,
    "email.clicked": T.CLICKED,
    "email.failed": T.FAILED,
    "email.suppressed": T.REJECTED,
    "suppression.added": T.SUPPRESSION_ADDED,
    "suppression.removed": T.SUPPRESSION_REMOVED,
}
# SES-style bounce types; older payloads carry only `bounce.message`, hence undetermined.
_BOUNCE = {"permanent": BounceClass.HARD, "transient": BounceClass.SOFT}


class ResendSettings(scheme.SecretsSettings, kw_only=True):
    """The endpoint's Svix signing secrets (``whsec_…``); more than one while rotating."""


class Resend:
    """Resend's webhooks (Svix-signed)."""

    NAME: ClassVar[str] = "resend"
    CONTENT_TYPES: ClassVar[tuple[str, ...]] = ("application/json",)
    Settings: ClassVar[type[msgspec.Struct]] = ResendSettings

    def verify(self, request: WebhookRequest, settings: ResendSettings, ctx: VerifyContext) -> Verified:
        return scheme.verify(request, settings.secrets, ctx.now)

    def parse(self, request: WebhookRequest) -> Parsed:
        body = decode_json(request.body)
        if not isinstance(body, dict):
            raise BadPayload("body must be one Resend event object")
        return _events(body, scheme.message_id(request.headers))


def _events(body: dict[str, Any], event_id: str | None) -> Parsed:
    name, data = body.get("type"), body.get("data")
    if not isinstance(name, str) or not isinstance(data, dict):
        return [Quarantined("event has no type string or no data object", body)]
    occurred_at = iso_or_none(body.get("created_at"))
    if occurred_at is None:
        return [Quarantined("created_at is missing or not ISO 8601 with an offset", body)]
    kind = _TYPES.get(name, T.UNKNOWN)
    fields = {
        "type": kind, "provider_event_type": name, "occurred_at": occurred_at, "provider_event_id": event_id,
        "provider_message_id": text_or_none(data.get("email_id")), "raw": body, **_details(kind, data),
    }  # fmt: skip
    candidates = _candidates(data)
    if not candidates:
        if kind is not T.UNKNOWN or name.startswith("email."):
            return [Quarantined(f"{name} event names no recipient", body)]
        return [NormalizedEvent(recipient="", **fields)]
    out: Parsed = []
    for index, candidate in enumerate(candidates):
        try:
            out.append(NormalizedEvent(recipient=address(_bare(candidate)), **fields))
        except ValueError:
            out.append(Quarantined(f"recipient #{index + 1} is not an email address", body))
    return out


def _candidates(data: dict[str, Any]) -> list[Any]:
    to = data.get("to")
    if isinstance(to, list):
        return to
    if to is not None:
        return [to]
    # contact.* and suppression.* data name the address as `email`.
    return [data["email"]] if data.get("email") is not None else []


def _bare(value: Any) -> Any:
    # `to` entries may carry a display name: "Someone <someone@example.com>".
    if isinstance(value, str) and "<" in value and value.rstrip().endswith(">"):
        return value[value.rindex("<") + 1 : value.rindex(">")]
    return value


def _details(kind: EmailEventType, data: dict[str, Any]) -> dict[str, Any]:
    bounce, click = as_dict(data.get("bounce")), as_dict(data.get("click"))
    reason = bounce.get("message") or as_dict(data.get("failed")).get("reason")
    reason = reason or as_dict(data.get("suppressed")).get("message")
    bounce_type = bounce.get("type")
    bounce_class = None
    if kind is T.BOUNCED:
        key = bounce_type.lower() if isinstance(bounce_type, str) else ""
        bounce_class = _BOUNCE.get(key, BounceClass.UNDETERMINED)
    return {
        "bounce_class": bounce_class,
        "reason": string_or_none(reason),
        "click_url": string_or_none(click.get("link")),
        "ip": string_or_none(click.get("ipAddress")),
        "user_agent": string_or_none(click.get("userAgent")),
        "metadata": _tags(data.get("tags")),
    }


def _tags(tags: Any) -> dict[str, str]:
    # Webhooks echo tags as {name: value}; the send API's [{name, value}] form is accepted too.
    if isinstance(tags, list):
        tags = {t["name"]: t.get("value") for t in tags if isinstance(t, dict) and isinstance(t.get("name"), str)}
    return flat(tags)


PROVIDER = Resend()
