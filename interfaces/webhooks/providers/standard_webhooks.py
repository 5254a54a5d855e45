"""Generic events from any sender (an in-house MTA, a relay), signed with Standard Webhooks.

Signing: https://www.standardwebhooks.com, see ``_standard_webhooks`` (``webhook-*`` or ``svix-*``
headers, ±5 minutes, several ``whsec_`` secrets at once while the sender rotates keys).

The payload format is ours. The body is one event object or a JSON array of them::

    {
      "type": "delivered",
      "timestamp": "2026-01-31T12:00:00.250Z",
      "data": {
        "recipient": "someone@example.com",
        "message_id": "<the id the sender gave the message>",
        "event_id": "<unique per event>",
        "bounce_class": "hard",
        "url": "https://example.com/clicked",
        "reason": "550 5.1.1 user unknown",
        "smtp_code": "550",
        "user_agent": "Mozilla/5.0 ...",
        "ip": "203.0.113.7",
        "machine_open": false,
        "metadata": {"campaign": "spring"}
      }
    }

* ``type`` (required): one of ``accepted delivered deferred bounced rejected failed opened clicked
  complained unsubscribed resubscribed suppression_added suppression_removed unknown``, optionally
  prefixed ``email.`` (``email.delivered``). Any other string is kept as type ``unknown``.
* ``timestamp`` (required): when it happened, ISO 8601 with an offset or ``Z``.
* ``data.recipient`` (required; ``data.email`` is accepted instead): the address concerned.
* ``data.message_id``, ``data.event_id``, ``data.smtp_code``: strings or integers. Without
  ``event_id`` a lone object takes the ``webhook-id`` (``svix-id``) header as its id; items of an
  array take a hash of their content instead, as one header cannot name several events.
* ``data.bounce_class``: for ``bounced`` only; ``hard``, ``soft`` or ``undetermined`` (the default).
* ``data.url``, ``reason``, ``user_agent``, ``ip`` (strings) and ``machine_open`` (boolean): optional.
* ``data.metadata``: an optional flat object; values are kept as strings (non-strings as JSON).

An item that breaks these rules is quarantined with the reason; the rest of the array is kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import msgspec

from domain.email_event import BounceClass, EmailEventType, NormalizedEvent, Quarantined
from interfaces.webhooks.provider import Parsed, Verified, VerifyContext, WebhookRequest, decode_json
from interfaces.webhooks.providers import _standard_webhooks as scheme
from interfaces.webhooks.providers._common import (
    address,
    flat,
    iso_or_none,
    one_or_many,
    string_or_none,
    text_or_none,
)

_TYPES = {t.value: t for t in EmailEventType}
_CLASSES = {c.value: c for c in BounceClass}


class StandardWebhooksSettings(scheme.SecretsSettings, kw_only=True):
    """The sender's ``whsec_`` secrets; more than one while it rotates keys."""


class StandardWebhooks:
    """Tidings' generic event format over Standard Webhooks signing."""

    NAME: ClassVar[str] = "standard_webhooks"
    CONTENT_TYPES: ClassVar[tuple[str, ...]] = ("application/json",)
    Settings: ClassVar[type[msgspec.Struct]] = StandardWebhooksSettings

    def verify(self, request: WebhookRequest, settings: StandardWebhooksSettings, ctx: VerifyContext) -> Verified:
        return scheme.verify(request, settings.secrets, ctx.now)

    def parse(self, request: WebhookRequest) -> Parsed:
        body = decode_json(request.body)
        # One header cannot name several events: only a lone object takes the webhook-id.
        header_id = scheme.message_id(request.headers) if isinstance(body, dict) else None
        return [_event(item, header_id) for item in one_or_many(body)]


class _Invalid(ValueError):
    """An item breaks the format; the message is the quarantine reason."""


def _event(item: Any, header_id: str | None) -> NormalizedEvent | Quarantined:
    try:
        return _normalize(item, header_id)
    except _Invalid as exc:
        return Quarantined(str(exc), item)


def _normalize(item: Any, header_id: str | None) -> NormalizedEvent:
    data = item.get("data") if isinstance(item, dict) else None
    if not isinstance(data, dict):
        raise _Invalid("item is not an object with a data object")
    name = item.get("type")
    if not isinstance(name, str):
        raise _Invalid("type is missing or not a string")
    kind = _TYPES.get(name.removeprefix("email."), EmailEventType.UNKNOWN)
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise _Invalid("data.metadata must be an object")
    machine_open = data.get("machine_open")
    return NormalizedEvent(
        type=kind,
        provider_event_type=name,
        recipient=_recipient(data),
        occurred_at=_when(item.get("timestamp")),
        provider_message_id=text_or_none(data.get("message_id")),
        provider_event_id=text_or_none(data.get("event_id")) or header_id,
        bounce_class=_bounce_class(data) if kind is EmailEventType.BOUNCED else None,
        click_url=string_or_none(data.get("url")),
        reason=string_or_none(data.get("reason")),
        smtp_code=text_or_none(data.get("smtp_code")),
        machine_open=machine_open if isinstance(machine_open, bool) else None,
        user_agent=string_or_none(data.get("user_agent")),
        ip=string_or_none(data.get("ip")),
        metadata=flat(metadata),
        raw=item,
    )


def _recipient(data: dict[str, Any]) -> str:
    try:
        return address(data.get("recipient", data.get("email")))
    except ValueError:
        raise _Invalid("data.recipient is missing or not an email address") from None


def _when(value: Any) -> datetime:
    if (when := iso_or_none(value)) is None:
        raise _Invalid("timestamp is missing or not ISO 8601 with an offset")
    return when


def _bounce_class(data: dict[str, Any]) -> BounceClass:
    given = data.get("bounce_class") or "undetermined"
    if not isinstance(given, str) or given not in _CLASSES:
        raise _Invalid("data.bounce_class must be hard, soft or undetermined")
    return _CLASSES[given]


PROVIDER = StandardWebhooks()
