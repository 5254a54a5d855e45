"""Postmark's batch email API: up to 500 messages per request, one result per message.

Documented behaviour this module relies on:

- ``POST /email/batch`` takes a JSON array of messages, at most 500 per call and 50 MB per payload, and
  answers 200 with one result per message in the same order, even when some of them failed: each result
  carries ``ErrorCode`` (0 = accepted, ``MessageID`` = Postmark's id) and ``Message``.
  https://postmarkapp.com/developer/user-guide/send-email-with-api/batch-emails
- Authentication is the ``X-Postmark-Server-Token`` header; a missing or wrong token answers 401. HTTP 422
  carries ``{"ErrorCode", "Message"}`` for a request Postmark refuses as a whole (410 "too many batch
  messages", 402 invalid JSON, ...); 413 a payload over the limit; 429 the rate limit; 500 and 503 are
  Postmark's own failures and maintenance. https://postmarkapp.com/developer/api/overview#error-codes
- Marketing mail goes through a Broadcast message stream (``MessageStream``), never the transactional
  ``outbound`` one. ``Metadata`` comes back in every webhook, which is how events find our message.
  https://postmarkapp.com/support/article/1125-custom-metadata-faq
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Annotated, Any, Literal

import httpx
import msgspec

from interfaces.transports.base import Outcome, OutgoingMessage, SendResult, all_failed
from interfaces.transports.http_replies import retry_after

DEFAULT_BASE_URL = "https://api.postmarkapp.com"
MAX_BATCH = 500
MAX_PAYLOAD_BYTES = 50 * 1024 * 1024
_ENCODER = msgspec.json.Encoder()
_CHUNK = 1024 * 1024

# ErrorCodes that may succeed if tried again later: Postmark maintenance and its rate limit.
_TRANSIENT_CODES = {100: "Postmark is in maintenance", 429: "rate limit exceeded"}
# ErrorCodes about the account or server rather than the message: the reason says so, so that an operator
# reading a run of failures looks at the Postmark account, not at the recipients.
_ACCOUNT_CODES = {
    10: "server token rejected",
    400: "sender signature not found",
    401: "sender signature not confirmed",
    405: "account not allowed to send (out of credits?)",
    412: "account is pending approval",
    413: "account may not send",
}


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """A Postmark server's token and how its messages are sent."""

    server_token: str
    base_url: str = DEFAULT_BASE_URL
    # Postmark keeps marketing mail apart from transactional mail by stream; "broadcast" is the default
    # Broadcast stream's id.
    message_stream: str = "broadcast"
    # None leaves the choice to the Postmark server's own setting.
    track_opens: bool | None = None
    track_links: Literal["None", "HtmlAndText", "HtmlOnly", "TextOnly"] | None = None
    batch_size: Annotated[int, msgspec.Meta(ge=1, le=MAX_BATCH)] = MAX_BATCH
    timeout: Annotated[float, msgspec.Meta(gt=0)] = 30.0


class PostmarkTransport:
    """Sends through ``/email/batch``; a batch too big for one payload goes as several requests."""

    def __init__(
        self, settings: Settings, *, client: httpx.AsyncClient | None = None, max_payload: int = MAX_PAYLOAD_BYTES
    ) -> None:
        self.max_batch = settings.batch_size
        self._settings = settings
        self._max_payload = max_payload
        self._client = client or httpx.AsyncClient(timeout=settings.timeout)
        self._url = settings.base_url.rstrip("/") + "/email/batch"
        self._headers = {
            "X-Postmark-Server-Token": settings.server_token,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        for part, body in self._payloads(messages):
            results.extend(await self._post(part, body))
        return results

    def _payloads(self, messages: Sequence[OutgoingMessage]) -> Iterator[tuple[Sequence[OutgoingMessage], bytearray]]:
        """Requests of at most ``max_batch`` messages and ``max_payload`` bytes, in order.

        Each request's JSON array is encoded straight into one buffer: a list of encoded messages joined into
        a body held two more copies of ~100 KB per message, which was most of the worker's peak memory.
        """
        start, body = 0, bytearray(b"[")
        for index, message in enumerate(messages):
            mark = len(body)
            if index > start:
                body += b","
            _ENCODER.encode_into(self._message(message), body, len(body))
            full = index - start >= self.max_batch or len(body) + 1 > self._max_payload
            if full and index > start:
                del body[mark:]  # this message opens the next request
                body += b"]"
                yield messages[start:index], body
                start, body = index, bytearray(b"[")
                _ENCODER.encode_into(self._message(message), body, len(body))
        if start < len(messages):
            body += b"]"
            yield messages[start:], body

    def _message(self, m: OutgoingMessage) -> dict[str, Any]:
        headers = {"Message-ID": m.rfc_message_id, **m.all_headers()}
        # Postmark's API documents Reply-To as a field of its own (ReplyTo), not as a custom header.
        reply_to = next((v for k, v in headers.items() if k.lower() == "reply-to"), None)
        message: dict[str, Any] = {
            "From": m.from_address,
            "To": m.to,
            "Subject": m.subject,
            "HtmlBody": m.html,
            "TextBody": m.text,
            "Headers": [{"Name": k, "Value": v} for k, v in headers.items() if k.lower() != "reply-to"],
            "Metadata": m.metadata(),
            "MessageStream": self._settings.message_stream,
        }
        if reply_to is not None:
            message["ReplyTo"] = reply_to
        if self._settings.track_opens is not None:
            message["TrackOpens"] = self._settings.track_opens
        if self._settings.track_links is not None:
            message["TrackLinks"] = self._settings.track_links
        return message

    async def _post(self, messages: Sequence[OutgoingMessage], body: bytes) -> list[SendResult]:
        try:
            headers = {**self._headers, "Content-Length": str(len(body))}
            response = await self._client.post(self._url, content=_chunks(body), headers=headers)
        except httpx.TimeoutException as exc:
            return all_failed(messages, Outcome.TRANSIENT, f"Postmark timed out: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return all_failed(messages, Outcome.TRANSIENT, f"Postmark unreachable: {exc!r}")
        if response.status_code == 200:
            return _per_message(messages, response)
        return _whole_batch(messages, response)

    async def aclose(self) -> None:
        await self._client.aclose()


async def _chunks(body: bytearray) -> AsyncIterator[bytes]:
    # Slices, so the HTTP layer copies 1 MB at a time rather than the whole body at once (smaller slices cost more in
    # httpx and anyio per write than they save).
    view = memoryview(body)
    for offset in range(0, len(body), _CHUNK):
        yield view[offset : offset + _CHUNK]  # type: ignore[misc]


def _per_message(messages: Sequence[OutgoingMessage], response: httpx.Response) -> list[SendResult]:
    try:
        answers = response.json()
    except ValueError:
        answers = None
    if not isinstance(answers, list) or len(answers) != len(messages):
        # Which messages Postmark took is unknown; trying again may send some twice, which beats losing them.
        return all_failed(
            messages, Outcome.TRANSIENT, f"Postmark answered 200 without one result per message: {response.text[:200]}"
        )
    return [_result(m, a if isinstance(a, dict) else {}) for m, a in zip(messages, answers, strict=True)]


def _result(message: OutgoingMessage, answer: dict[str, Any]) -> SendResult:
    code = answer.get("ErrorCode")
    if code == 0 and answer.get("MessageID"):
        return SendResult(message.message_id, Outcome.SENT, provider_message_id=str(answer["MessageID"]))
    outcome, reason = classify(code, str(answer.get("Message", "")))
    return SendResult(message.message_id, outcome, reason=reason)


def _whole_batch(messages: Sequence[OutgoingMessage], response: httpx.Response) -> list[SendResult]:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    text = str(body.get("Message") or response.text[:200])
    if status == 401:
        return all_failed(
            messages, Outcome.PERMANENT, f"Postmark configuration: HTTP 401, server token rejected: {text}"
        )
    if status == 422 and isinstance(body.get("ErrorCode"), int):
        outcome, reason = classify(body["ErrorCode"], text)
        return all_failed(messages, outcome, reason)
    if status == 429 or status >= 500:
        return all_failed(messages, Outcome.TRANSIENT, f"Postmark HTTP {status}: {text}", retry_after(response.headers))
    return all_failed(messages, Outcome.PERMANENT, f"Postmark HTTP {status}: {text}")


def classify(code: object, message: str) -> tuple[Outcome, str]:
    """The outcome and reason for a Postmark ``ErrorCode``: transient, about the account, or about the message."""
    if isinstance(code, int) and code in _TRANSIENT_CODES:
        return Outcome.TRANSIENT, f"Postmark {code} ({_TRANSIENT_CODES[code]}): {message}"
    if isinstance(code, int) and code in _ACCOUNT_CODES:
        return Outcome.PERMANENT, f"Postmark account: {_ACCOUNT_CODES[code]} (ErrorCode {code}): {message}"
    return Outcome.PERMANENT, f"Postmark {code}: {message}"


def create(settings: Settings) -> PostmarkTransport:
    """A Postmark transport for ``settings``."""
    return PostmarkTransport(settings)
