"""Mailgun: ``POST /v3/{domain}/messages`` with HTTP basic auth ``api:<key>``, multipart form fields.

https://documentation.mailgun.com/docs/mailgun/api-reference/openapi-final/tag/Messages/
https://documentation.mailgun.com/docs/mailgun/user-manual/sending-messages/batch-sending
https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/#attaching-data-to-messages
https://documentation.mailgun.com/docs/mailgun/quickstart-guide/responses

Fields: ``from``, ``to``, ``subject``, ``html``, ``text``, ``h:<Header>`` for our headers (the message id,
List-Unsubscribe, List-Unsubscribe-Post, Reply-To) and ``v:<key>`` for our metadata, which Mailgun hands
back in every event's ``user-variables``.

How a batch becomes requests. Batch sending puts up to 1,000 ``to`` fields in one request with
``recipient-variables`` (JSON keyed by address), and Mailgun then sends each recipient their own copy,
replacing ``%recipient.<key>%`` anywhere in the message, header fields and ``v:`` values included. Values
that differ per message (our id, the unsubscribe link) ride that way: ``h:List-Unsubscribe`` is
``%recipient.h:List-Unsubscribe%``. The content cannot: our messages are rendered per contact, so
messages share a request only when from, subject, HTML, text and the header names are identical; a
personalized campaign is one request per message, concurrently up to ``concurrency``. Each address
appears once per request (recipient variables are keyed by it). Content that itself contains
``%recipient.`` (a campaign explaining Mailgun's syntax) is never batched: Mailgun documents the
substitution as part of batch sending with recipient variables, so alone the text goes out as written.

A 200 answers ``{"id": "<…@domain>", "message": "Queued. Thank you."}``; webhooks report the id without
angle brackets (``message.headers.message-id``), so it is stored that way. One batch request has one id
for all its recipients: its events tell them apart by ``user-variables``. Mailgun does not name its 429
headers; ``Retry-After`` and ``X-RateLimit-Reset`` are honoured when present.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from email.utils import parseaddr
from typing import Any

import httpx
import msgspec

from interfaces.transports.base import Outcome, OutgoingMessage, SendResult, all_failed
from interfaces.transports.http_replies import retry_after

MAX_RECIPIENTS = 1000
_PLACEHOLDER = "%recipient."
Fields = list[tuple[str, str]]


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A sending API key, the sending domain, and the region's API."""

    api_key: str
    domain: str
    base_url: str = "https://api.mailgun.net"  # EU region: https://api.eu.mailgun.net
    timeout: float = 30.0
    concurrency: int = 4  # requests in flight
    messages_per_second: float | None = None  # a hint for the delivery worker's throttle


def _shape(m: OutgoingMessage) -> tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]]:
    return (m.from_address, m.subject, m.html, m.text, tuple(sorted(m.all_headers())), tuple(sorted(m.metadata())))


def requests_for(messages: Sequence[OutgoingMessage], limit: int = MAX_RECIPIENTS) -> list[list[OutgoingMessage]]:
    """Messages grouped into requests: identical content, at most ``limit`` each, every address once."""
    groups: dict[tuple[Any, ...], list[tuple[list[OutgoingMessage], set[str]]]] = {}
    alone: list[list[OutgoingMessage]] = []
    for m in messages:
        if (
            _PLACEHOLDER in m.subject
            or _PLACEHOLDER in m.html
            or _PLACEHOLDER in m.text
            or _PLACEHOLDER in m.from_address
        ):
            # Mailgun would replace that text in a batch (and blank it when no variable matches): alone, it stays.
            alone.append([m])
            continue
        chunks = groups.setdefault(_shape(m), [])
        email = parseaddr(m.to)[1].lower()
        target = next((c for c in chunks if len(c[0]) < limit and email not in c[1]), None)
        if target is None:
            target = ([], set())
            chunks.append(target)
        target[0].append(m)
        target[1].add(email)
    return [*(chunk for chunks in groups.values() for chunk, _ in chunks), *alone]


def fields(messages: Sequence[OutgoingMessage]) -> Fields:
    """The form fields (but ``html`` and ``text``) for one message, or a batch sharing its content."""
    first = messages[0]
    out: Fields = [("from", first.from_address), *(("to", m.to) for m in messages), ("subject", first.subject)]
    if len(messages) == 1:
        out += [(f"h:{k}", v) for k, v in first.all_headers().items()]
        out += [(f"v:{k}", v) for k, v in first.metadata().items()]
        return out
    out += [(f"h:{k}", f"%recipient.h:{k}%") for k in first.all_headers()]
    out += [(f"v:{k}", f"%recipient.v:{k}%") for k in first.metadata()]
    variables = {
        parseaddr(m.to)[1]: {
            **{f"h:{k}": v for k, v in m.all_headers().items()},
            **{f"v:{k}": v for k, v in m.metadata().items()},
        }
        for m in messages
    }
    out.append(("recipient-variables", json.dumps(variables)))
    return out


def _reason(response: httpx.Response) -> str:
    try:
        detail = str(response.json().get("message") or "")
    except (ValueError, AttributeError):
        detail = response.text.strip()[:300]
    detail = detail or response.reason_phrase
    if response.status_code in (401, 403):
        return f"Mailgun refused the API key ({response.status_code}): {detail}"
    return f"Mailgun {response.status_code}: {detail}"


class MailgunTransport:
    """Sends through ``POST /v3/{domain}/messages``."""

    max_batch = MAX_RECIPIENTS

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self._path = f"/v3/{settings.domain}/messages"
        self._slots = asyncio.Semaphore(max(1, settings.concurrency))
        self._client = client or httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/"),
            timeout=settings.timeout,
            auth=("api", settings.api_key),
            limits=httpx.Limits(max_connections=max(1, settings.concurrency)),
        )

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        answers = await asyncio.gather(*(self._request(chunk) for chunk in requests_for(messages)))
        by_id = {r.message_id: r for answer in answers for r in answer}
        return [by_id[m.message_id] for m in messages]

    async def _request(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        first = messages[0]
        # html and text go as parts of their own: multipart keeps a 100 KB body from being percent-encoded.
        bodies = (("html", first.html), ("text", first.text))
        parts = [(name, (None, value.encode())) for name, value in bodies if value]
        async with self._slots:
            try:
                response = await self._client.post(self._path, data=_form(fields(messages)), files=parts)
            except httpx.TimeoutException as exc:
                return all_failed(messages, Outcome.TRANSIENT, f"Mailgun timed out: {type(exc).__name__}")
            except httpx.TransportError as exc:
                return all_failed(messages, Outcome.TRANSIENT, f"Mailgun unreachable: {type(exc).__name__}: {exc}")
        if response.status_code == 400 and len(messages) > 1 and "to parameter" in response.text:
            # One bad address refuses the whole batch; halve it until only that message fails.
            half = len(messages) // 2
            left, right = await asyncio.gather(self._request(messages[:half]), self._request(messages[half:]))
            return left + right
        return _judge(response, messages)

    async def aclose(self) -> None:
        await self._client.aclose()


def _judge(response: httpx.Response, messages: list[OutgoingMessage]) -> list[SendResult]:
    status = response.status_code
    if status == 200:
        queued = _queued_id(response)
        if queued is None:
            # A wrong base URL or domain can land on a 200 page that is not the messages API.
            return all_failed(messages, Outcome.PERMANENT, f"Mailgun answered 200 without an id: {response.text[:200]}")
        return [SendResult(m.message_id, Outcome.SENT, provider_message_id=queued) for m in messages]
    if status == 429:
        return all_failed(messages, Outcome.TRANSIENT, _reason(response), retry_after(response.headers))
    outcome = Outcome.TRANSIENT if status >= 500 or status == 408 else Outcome.PERMANENT
    return all_failed(messages, outcome, _reason(response))


def _form(pairs: Fields) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form


def _queued_id(response: httpx.Response) -> str | None:
    try:
        value = response.json().get("id")
    except (ValueError, AttributeError):
        return None
    return str(value).strip().strip("<>") if value else None


def create(settings: Settings) -> MailgunTransport:
    """A Mailgun transport for ``settings``."""
    return MailgunTransport(settings)
