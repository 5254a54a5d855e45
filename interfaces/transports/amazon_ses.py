"""Amazon SES through the v2 API's ``SendEmail``, signed with Signature Version 4 by botocore.

Documented behaviour this module relies on:

- ``POST /v2/email/outbound-emails`` sends one message; 200 answers ``{"MessageId": ...}``. Errors answer
  an HTTP status with the error type in the ``x-amzn-ErrorType`` header (or ``__type``/``code`` in the
  body) and ``{"message": ...}``: ``MessageRejected``, ``MailFromDomainNotVerifiedException``,
  ``BadRequestException``, ``NotFoundException`` (an unknown configuration set), ``AccountSuspendedException``
  and ``SendingPausedException`` will not succeed by retrying; ``TooManyRequestsException`` (429, the
  sending rate) and ``LimitExceededException`` (the daily quota) will, later.
  https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html
  https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html
- ``Content.Raw`` carries a complete MIME message, base64 in JSON, so every header we build
  (``List-Unsubscribe``, ``List-Unsubscribe-Post``, ``X-Tidings-Message-Id``) arrives exactly as the SMTP
  transport would send it; lines must stay under 1,000 characters, which the MIME encoder ensures.
- ``EmailTags`` come back in SES event publishing (bounces, deliveries, opens); names and values allow only
  ASCII letters, digits, ``_`` and ``-``, at most 256 characters, so our UUIDs fit as they are.
  https://docs.aws.amazon.com/ses/latest/dg/event-publishing-send-email.html

Why no batch: SES v2 has ``SendBulkEmail``, but it sends one stored template with per-destination
replacement data, and our messages are rendered here, each with its own body. So a "batch" is up to
``max_batch`` single sends, at most ``concurrency`` of them in flight at once; the connection's throttle
(messages per second) still governs how fast batches come.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Sequence
from typing import Annotated, Any

import httpx
import msgspec
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from interfaces.transports.base import Outcome, OutgoingMessage, SendResult
from interfaces.transports.http_replies import retry_after

SIGNING_NAME = "ses"
PATH = "/v2/email/outbound-emails"

_PERMANENT = {
    "MessageRejected": "message rejected",
    "MailFromDomainNotVerifiedException": "MAIL FROM domain not verified",
    "BadRequestException": "bad request",
    "NotFoundException": "not found (configuration set?)",
}
# The account, not the message: every message will fail the same way until someone acts in the AWS console.
_ACCOUNT = {
    "AccountSuspendedException": "SES account suspended: sending is permanently restricted",
    "SendingPausedException": "SES account sending paused (account or configuration set)",
}
_TRANSIENT = {
    "TooManyRequestsException": "sending rate exceeded",
    "LimitExceededException": "quota exceeded",
    "ThrottlingException": "throttled",
    "ServiceUnavailable": "service unavailable",
    "InternalFailure": "internal failure",
}
_CONFIGURATION = {
    "InvalidSignatureException", "SignatureDoesNotMatch", "UnrecognizedClientException", "InvalidClientTokenId",
    "IncompleteSignature", "MissingAuthenticationTokenException", "ExpiredTokenException", "AccessDeniedException",
}  # fmt: skip
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """An IAM identity allowed ``ses:SendEmail`` in one region, and how hard to push it."""

    region: str
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    base_url: str | None = None  # default: https://email.{region}.amazonaws.com
    configuration_set: str | None = None  # event publishing (webhooks) is set up on a configuration set
    batch_size: Annotated[int, msgspec.Meta(ge=1, le=500)] = 50
    concurrency: Annotated[int, msgspec.Meta(ge=1, le=64)] = 8
    timeout: Annotated[float, msgspec.Meta(gt=0)] = 30.0


class AmazonSesTransport:
    """One signed ``SendEmail`` per message, ``concurrency`` at a time."""

    def __init__(self, settings: Settings, *, client: httpx.AsyncClient | None = None) -> None:
        self.max_batch = settings.batch_size
        self._settings = settings
        base = settings.base_url or f"https://email.{settings.region}.amazonaws.com"
        self._url = base.rstrip("/") + PATH
        self._signer = SigV4Auth(
            Credentials(settings.access_key_id, settings.secret_access_key, settings.session_token),
            SIGNING_NAME,
            settings.region,
        )
        self._client = client or httpx.AsyncClient(
            timeout=settings.timeout, limits=httpx.Limits(max_connections=settings.concurrency)
        )
        self._slots = asyncio.Semaphore(settings.concurrency)

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        return list(await asyncio.gather(*(self._send_one(m) for m in messages)))

    async def _send_one(self, message: OutgoingMessage) -> SendResult:
        body = msgspec.json.encode(self.request_body(message))
        async with self._slots:
            # Signed inside the slot: a request waiting its turn must not carry a stale X-Amz-Date.
            headers = self._signed_headers(body)
            try:
                response = await self._client.post(self._url, content=body, headers=headers)
            except httpx.TimeoutException as exc:
                return _failed(message, Outcome.TRANSIENT, f"SES timed out: {type(exc).__name__}")
            except httpx.HTTPError as exc:
                return _failed(message, Outcome.TRANSIENT, f"SES unreachable: {exc!r}")
        return result(message, response)

    def request_body(self, message: OutgoingMessage) -> dict[str, Any]:
        """The ``SendEmail`` request: the MIME message as Raw content, our metadata as tags."""
        raw = message.wire()
        body: dict[str, Any] = {
            "FromEmailAddress": message.sender,
            "Destination": {"ToAddresses": [message.to]},
            "Content": {"Raw": {"Data": base64.b64encode(raw).decode("ascii")}},
            "EmailTags": [{"Name": k, "Value": _tag(v)} for k, v in message.metadata().items()],
        }
        if self._settings.configuration_set:
            body["ConfigurationSetName"] = self._settings.configuration_set
        return body

    def _signed_headers(self, body: bytes) -> dict[str, str]:
        request = AWSRequest(method="POST", url=self._url, data=body, headers={"Content-Type": "application/json"})
        self._signer.add_auth(request)
        return dict(request.headers.items())

    async def aclose(self) -> None:
        await self._client.aclose()


def result(message: OutgoingMessage, response: httpx.Response) -> SendResult:
    """What an SES answer means for ``message``."""
    body = _json(response)
    if response.status_code == 200 and body.get("MessageId"):
        return SendResult(message.message_id, Outcome.SENT, provider_message_id=str(body["MessageId"]))
    if response.status_code == 200:
        # Whether SES took it is unknown; trying again may send it twice, which beats losing it.
        return _failed(message, Outcome.TRANSIENT, f"SES answered 200 without a MessageId: {response.text[:200]}")
    code = error_type(response, body)
    text = str(body.get("message") or body.get("Message") or response.text[:200])
    status = response.status_code
    if code in _ACCOUNT:
        return _failed(message, Outcome.PERMANENT, f"{_ACCOUNT[code]} ({code}): {text}")
    if code in _TRANSIENT or status == 429 or status >= 500:
        return _failed(message, Outcome.TRANSIENT, f"SES {code or status}: {text}", retry_after(response.headers))
    if code in _CONFIGURATION:
        return _failed(message, Outcome.PERMANENT, f"SES configuration: credentials refused ({code}): {text}")
    return _failed(message, Outcome.PERMANENT, f"SES {code or status} ({_PERMANENT.get(code, 'refused')}): {text}")


def error_type(response: httpx.Response, body: dict[str, Any]) -> str:
    """The AWS error type, from ``x-amzn-ErrorType`` or the body, without its namespace or URL suffix."""
    code = response.headers.get("x-amzn-ErrorType") or body.get("__type") or body.get("code") or ""
    return str(code).split(":", 1)[0].rsplit("#", 1)[-1]


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _tag(value: str) -> str:
    return _TAG_UNSAFE.sub("_", value)[:256]


def _failed(message: OutgoingMessage, outcome: Outcome, reason: str, retry_after: float | None = None) -> SendResult:
    return SendResult(message.message_id, outcome, reason=reason, retry_after=retry_after)


def create(settings: Settings) -> AmazonSesTransport:
    """An Amazon SES transport for ``settings``."""
    return AmazonSesTransport(settings)
