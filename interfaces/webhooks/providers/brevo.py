"""Brevo (ex-Sendinblue) transactional email webhooks.

Docs: https://developers.brevo.com/docs/transactional-webhooks (authentication:
https://developers.brevo.com/docs/secured-webhooks; batching: https://developers.brevo.com/docs/batch-webhooks).

No signature exists: the webhook carries HTTP Basic credentials or a bearer token; exactly one is set
here. The body is one event object, or (``batched`` webhooks, whose envelope is undocumented) a JSON
array of them. There is no event id (``id`` is the webhook's), so the dedup key is the canonical hash
of the item. Metadata: ``X-Mailin-custom`` (a JSON object is spread into keys) and the tags.

Time: ``ts_epoch`` is documented as UTC milliseconds, yet Brevo's own examples (``request``, ``error``)
give seconds and one spells it ``s_epoch``; a value of at least 10^11 is read as milliseconds (10^11 s
is in the year 5138, 10^11 ms in 1973), anything smaller as seconds. Without it, ``ts_event`` (UTC
seconds) is used. ``ts`` and ``date`` are never used: they follow the account's time zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import msgspec

from domain.email_event import BounceClass, EmailEventType, NormalizedEvent, Quarantined
from interfaces.webhooks.provider import Parsed, Verified, VerifyContext, WebhookRequest, decode_json
from interfaces.webhooks.providers._common import (
    BasicOrBearerSettings,
    address,
    as_text,
    check_credential,
    embedded_json,
    one_or_many,
    spread_json,
    string_or_none,
    text_or_none,
    unix_or_none,
)

T = EmailEventType
# The payload `event` values (the webhook configuration names them differently: hardBounce, ...).
_TYPES = {
    "request": T.ACCEPTED,
    "delivered": T.DELIVERED,
    "deferred": T.DEFERRED,
    "hard_bounce": T.BOUNCED,
    "soft_bounce": T.BOUNCED,
    "blocked": T.REJECTED,
    "invalid_email": T.REJECTED,
    "error": T.FAILED,
    "spam": T.COMPLAINED,
    "complaint": T.COMPLAINED,
    "opened": T.OPENED,
    "unique_opened": T.OPENED,
    "proxy_open": T.OPENED,
    "unique_proxy_open": T.OPENED,
    "click": T.CLICKED,
    "unsubscribe": T.UNSUBSCRIBED,
    "unsubscribed": T.UNSUBSCRIBED,
}
# Brevo reports opens through a privacy proxy (Apple Mail) apart from the recipient's own opens.
_PROXY_OPENS = frozenset({"proxy_open", "unique_proxy_open"})
_MILLISECONDS = 10**11


class BrevoSettings(BasicOrBearerSettings, kw_only=True):
    """The credentials configured on the Brevo webhook: Basic auth or a bearer token."""


class Brevo:
    """Brevo's transactional webhooks."""

    NAME: ClassVar[str] = "brevo"
    CONTENT_TYPES: ClassVar[tuple[str, ...]] = ("application/json",)
    Settings: ClassVar[type[msgspec.Struct]] = BrevoSettings

    def verify(self, request: WebhookRequest, settings: BrevoSettings, ctx: VerifyContext) -> Verified:
        return check_credential(request.headers, settings.basic_auth, settings.bearer_token)

    def parse(self, request: WebhookRequest) -> Parsed:
        return [_event(item) for item in one_or_many(decode_json(request.body))]


def _event(item: Any) -> NormalizedEvent | Quarantined:
    if not isinstance(item, dict) or not isinstance(item.get("event"), str):
        return Quarantined("item is not an object with an event name", item)
    try:
        recipient = address(item.get("email"))
    except ValueError:
        return Quarantined("email is missing or not an email address", item)
    occurred_at = _when(item)
    if occurred_at is None:
        return Quarantined("no usable UTC time (ts_epoch or ts_event)", item)
    name = item["event"]
    kind = _TYPES.get(name, T.UNKNOWN)
    bounce_class = None
    if kind is T.BOUNCED:
        bounce_class = BounceClass.SOFT if name == "soft_bounce" else BounceClass.HARD
    return NormalizedEvent(
        type=kind,
        provider_event_type=name,
        recipient=recipient,
        occurred_at=occurred_at,
        provider_message_id=text_or_none(item.get("message-id")),
        bounce_class=bounce_class,
        click_url=string_or_none(item.get("link"), strip=True),
        # Brevo's reasons have been seen with a leading space.
        reason=string_or_none(item.get("reason"), strip=True),
        machine_open=(name in _PROXY_OPENS) if kind is T.OPENED else None,
        metadata=_metadata(item),
        raw=item,
    )


def _when(item: dict[str, Any]) -> datetime | None:
    # ts_event is always seconds, so the magnitude rule reads it right too.
    found = (unix_or_none(item.get(key), millis_from=_MILLISECONDS) for key in ("ts_epoch", "s_epoch", "ts_event"))
    return next((when for when in found if when is not None), None)


def _metadata(item: dict[str, Any]) -> dict[str, str]:
    # X-Mailin-custom is the sender's custom header: a JSON object is spread into keys.
    out = spread_json(item.get("X-Mailin-custom"), "X-Mailin-custom")
    tags = _tags(item.get("tags")) or _tags(item.get("tag"))
    if tags:
        out["tags"] = as_text(tags)
    return out


def _tags(value: Any) -> list[str]:
    # `tags` is a list; `tag` is a list, a JSON-encoded list, or one tag (or the template name).
    decoded = embedded_json(value)
    if isinstance(decoded, list):
        value = decoded
    if isinstance(value, str):
        return [value] if value else []
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


PROVIDER = Brevo()
