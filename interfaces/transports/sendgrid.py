"""SendGrid: the v3 Mail Send API, one personalization per message.

https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
https://www.twilio.com/docs/sendgrid/for-developers/sending-email/personalizations
https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors
https://docs.sendgrid.com/api-reference/mail-send/limitations
https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits

How a batch becomes requests. A personalization may carry its own ``to``, ``subject``, ``headers`` and
``custom_args``, but the ``content`` (HTML and text), ``from`` and ``reply_to`` are the request's. Our
messages arrive rendered per contact, so messages share a request only when their from, reply-to, HTML
and text are identical (a campaign without per-contact content); a personalized campaign is one request
per message, sent concurrently up to ``concurrency``. Rebuilding per-contact content as ``substitutions``
would batch those too, but it means diffing rendered HTML back into a template, and substitutions are
capped at 10,000 bytes per personalization: not worth the risk of sending someone else's link.

Per request: at most 1,000 personalizations and each address once (SendGrid answers 400 otherwise).
Each personalization carries our message id in ``custom_args`` (SendGrid flattens them into every event)
and in its headers with the unsubscribe headers and our ``Message-ID``. A 202 answers ``X-Message-Id``,
which every event's ``sg_message_id`` starts with: it is the provider id of every message in the request.
A 400 naming a personalization is bisected so that only the offending message fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from email.utils import parseaddr
from typing import Any

import httpx
import msgspec

from interfaces.transports.base import Outcome, OutgoingMessage, SendResult, all_failed
from interfaces.transports.http_replies import retry_after

MAX_PERSONALIZATIONS = 1000
# Headers SendGrid reserves (or takes from fields): Reply-To becomes ``reply_to``, the rest are ours anyway.
_RESERVED = {"reply-to", "to", "from", "subject", "cc", "bcc", "content-type", "content-transfer-encoding"}


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An API key with Mail Send permission, and where the API is."""

    api_key: str
    base_url: str = "https://api.sendgrid.com"  # EU-pinned subusers: https://api.eu.sendgrid.com
    timeout: float = 30.0
    concurrency: int = 4  # requests in flight
    messages_per_second: float | None = None  # a hint for the delivery worker's throttle


def _address(formatted: str) -> dict[str, str]:
    name, email = parseaddr(formatted)
    name = name.replace(";", " ").replace(",", " ").strip()  # SendGrid refuses either in a name
    return {"email": email or formatted, "name": name} if name else {"email": email or formatted}


def _personalization(m: OutgoingMessage) -> dict[str, Any]:
    headers = {k: v for k, v in m.all_headers().items() if k.lower() not in _RESERVED}
    headers["Message-ID"] = m.rfc_message_id
    return {"to": [_address(m.to)], "subject": m.subject, "headers": headers, "custom_args": m.metadata()}


def _reply_to(m: OutgoingMessage) -> str | None:
    return next((v for k, v in m.headers.items() if k.lower() == "reply-to"), None)


def payload(messages: Sequence[OutgoingMessage]) -> dict[str, Any]:
    """The Mail Send body for messages that share from, reply-to and content."""
    first = messages[0]
    body: dict[str, Any] = {
        "personalizations": [_personalization(m) for m in messages],
        "from": _address(first.from_address),
        # text/plain must come first (SendGrid's rule); an empty part is refused, so it is left out.
        "content": [
            {"type": kind, "value": value}
            for kind, value in (("text/plain", first.text), ("text/html", first.html))
            if value
        ],
    }
    if (reply_to := _reply_to(first)) is not None:
        body["reply_to"] = _address(reply_to)
    return body


def requests_for(messages: Sequence[OutgoingMessage], limit: int = MAX_PERSONALIZATIONS) -> list[list[OutgoingMessage]]:
    """Messages grouped into requests: shared content, at most ``limit`` each, every address once."""
    groups: dict[tuple[str, str | None, str, str], list[list[OutgoingMessage]]] = {}
    seen: dict[int, set[str]] = {}
    for m in messages:
        chunks = groups.setdefault((m.from_address, _reply_to(m), m.html, m.text), [])
        email = parseaddr(m.to)[1].lower()
        target = next((c for c in chunks if len(c) < limit and email not in seen[id(c)]), None)
        if target is None:
            target = []
            chunks.append(target)
            seen[id(target)] = set()
        target.append(m)
        seen[id(target)].add(email)
    return [chunk for chunks in groups.values() for chunk in chunks]


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        errors = response.json().get("errors", [])
    except (ValueError, AttributeError):
        return []
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _reason(response: httpx.Response) -> str:
    messages = [f"{e.get('message')}" + (f" ({e['field']})" if e.get("field") else "") for e in _errors(response)]
    detail = "; ".join(messages) or response.text[:300] or response.reason_phrase
    if response.status_code in (401, 403):
        return f"SendGrid refused the API key ({response.status_code}): {detail}"
    return f"SendGrid {response.status_code}: {detail}"


def _names_a_personalization(response: httpx.Response) -> bool:
    return any(str(e.get("field") or "").startswith("personalizations") for e in _errors(response))


class SendGridTransport:
    """Sends through ``POST /v3/mail/send``."""

    max_batch = MAX_PERSONALIZATIONS

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self._settings = settings
        self._slots = asyncio.Semaphore(max(1, settings.concurrency))
        self._client = client or httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/"),
            timeout=settings.timeout,
            headers={"Authorization": f"Bearer {settings.api_key}"},
            limits=httpx.Limits(max_connections=max(1, settings.concurrency)),
        )

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        chunks = requests_for(messages)
        answers = await asyncio.gather(*(self._request(chunk) for chunk in chunks))
        by_id = {r.message_id: r for answer in answers for r in answer}
        return [by_id[m.message_id] for m in messages]

    async def _request(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        async with self._slots:
            try:
                response = await self._client.post("/v3/mail/send", json=payload(messages))
            except httpx.TimeoutException as exc:
                return all_failed(messages, Outcome.TRANSIENT, f"SendGrid timed out: {type(exc).__name__}")
            except httpx.TransportError as exc:
                return all_failed(messages, Outcome.TRANSIENT, f"SendGrid unreachable: {type(exc).__name__}: {exc}")
        status = response.status_code
        if status in (200, 202):
            sg_id = response.headers.get("x-message-id")
            return [SendResult(m.message_id, Outcome.SENT, provider_message_id=sg_id) for m in messages]
        if status == 400 and len(messages) > 1 and _names_a_personalization(response):
            half = len(messages) // 2
            left, right = await asyncio.gather(self._request(messages[:half]), self._request(messages[half:]))
            return left + right
        if status == 429:
            return all_failed(messages, Outcome.TRANSIENT, _reason(response), retry_after(response.headers))
        outcome = Outcome.TRANSIENT if status >= 500 or status == 408 else Outcome.PERMANENT
        return all_failed(messages, outcome, _reason(response))

    async def aclose(self) -> None:
        await self._client.aclose()


def create(settings: Settings) -> SendGridTransport:
    """A SendGrid transport for ``settings``."""
    return SendGridTransport(settings)
