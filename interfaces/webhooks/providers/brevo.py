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

import json
from datetime import datetime
from typing import Any, ClassVar

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
    BasicAuth,
    WebhookSettings,
    address,
    check_basic_auth,
    check_bearer,
    text_or_none,
    utc_from_unix,
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


class BrevoSettings(WebhookSettings, kw_only=True):
    """The credentials configured on the Brevo webhook: Basic auth or a bearer token."""

    basic_auth: BasicAuth | None = None
    bearer_token: str | None = None

    def __post_init__(self) -> None:
        # Fail closed: a webhook without credentials would accept anyone's events.
        if (self.basic_auth is None) == (self.bearer_token is None) or self.bearer_token == "":
            raise ValueError("set exactly one of basic_auth or bearer_token")


class Brevo:
    """Brevo's transactional webhooks."""

    NAME: ClassVar[str] = "brevo"
    CONTENT_TYPES: ClassVar[tuple[str, ...]] = ("application/json",)
    Settings: ClassVar[type[msgspec.Struct]] = BrevoSettings

    def verify(self, request: WebhookRequest, settings: BrevoSettings, ctx: VerifyContext) -> Verified:
        if settings.basic_auth is not None:
            check_basic_auth(request.headers, settings.basic_auth)
            return Verified(method="basic")
        if settings.bearer_token:
            check_bearer(request.headers, settings.bearer_token)
            return Verified(method="bearer")
        raise VerificationFailed("no webhook credentials are configured")

    def parse(self, request: WebhookRequest) -> Parsed:
        body = decode_json(request.body)
        if isinstance(body, dict):
            return [_event(body)]
        if isinstance(body, list):
            return [_event(item) for item in body]
        raise BadPayload("body must be an event object or a JSON array of event objects")


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
        click_url=_text(item.get("link")),
        reason=_text(item.get("reason")),
        machine_open=(name in _PROXY_OPENS) if kind is T.OPENED else None,
        metadata=_metadata(item),
        raw=item,
    )


def _when(item: dict[str, Any]) -> datetime | None:
    # ts_event is always seconds, so the magnitude rule reads it right too.
    for key in ("ts_epoch", "s_epoch", "ts_event"):
        value = item.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            continue
        try:
            number = float(value)
            return utc_from_unix(number / 1000 if number >= _MILLISECONDS else number)
        except (ValueError, OverflowError, OSError):
            continue
    return None


def _metadata(item: dict[str, Any]) -> dict[str, str]:
    # X-Mailin-custom is the sender's custom header: a JSON object is spread into keys.
    custom, out = item.get("X-Mailin-custom"), {}
    decoded = _json(custom)
    if isinstance(decoded, dict):
        out.update({k: _flat(v) for k, v in decoded.items() if v is not None})
    elif isinstance(custom, str) and custom:
        out["X-Mailin-custom"] = custom
    tags = _tags(item.get("tags")) or _tags(item.get("tag"))
    if tags:
        out["tags"] = _flat(tags)
    return out


def _tags(value: Any) -> list[str]:
    # `tags` is a list; `tag` is a list, a JSON-encoded list, or one tag (or the template name).
    decoded = _json(value)
    if isinstance(decoded, list):
        value = decoded
    if isinstance(value, str):
        return [value] if value else []
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def _json(value: Any) -> Any:
    if not isinstance(value, str) or not value.lstrip().startswith(("{", "[")):
        return None
    try:
        return decode_json(value.encode("utf-8", "surrogatepass"))
    except BadPayload:
        return None


def _flat(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _text(value: Any) -> str | None:
    # Brevo's reasons have been seen with a leading space.
    return value.strip() if isinstance(value, str) and value.strip() else None


PROVIDER = Brevo()
