"""A local Amazon SES v2 ``SendEmail`` endpoint that checks Signature Version 4 for real.

The signature is recomputed with botocore from the request as received (the headers named in
``SignedHeaders``, the body, the path) and the secret this fake knows, then compared: a request signed
with another secret, altered after signing, or dated more than 5 minutes away answers 403
``InvalidSignatureException``. Errors follow the documented shape, the type in ``x-amzn-ErrorType`` and
``{"message": ...}`` in the body: https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.transports.fake_server_thread import Reply, Request, serving

ACCESS_KEY_ID = "AKIDTIDINGSTESTS0001"
SECRET = "tidings/test/secret/access/key/0000000000"
REGION = "eu-west-1"
_AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                   r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})")  # fmt: skip
SKEW = timedelta(minutes=5)  # how far X-Amz-Date may be from the server's clock
_TAG = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    """An AWS REST-JSON error answer."""
    return Reply(status, {"message": message}, {"x-amzn-ErrorType": kind, **(headers or {})})


@dataclass
class FakeSes:
    """State and knobs: accepted messages, rejected addresses, account state, answers to force."""

    access_key_id: str = ACCESS_KEY_ID
    secret: str = SECRET
    region: str = REGION
    rejected: set[str] = field(default_factory=set)
    account: str | None = None  # "suspended" or "paused"
    accepted: list[dict[str, Any]] = field(default_factory=list)
    forced: list[Reply] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def reset(self) -> None:
        """Forget everything a previous test did."""
        self.rejected.clear()
        self.accepted.clear()
        self.forced.clear()
        self.account = None

    def force(self, reply: Reply) -> None:
        """Answer the next signed request with ``reply`` (a 429, a 500)."""
        self.forced.append(reply)

    def handle(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != "/v2/email/outbound-emails":
            return error(404, "NotFoundException", "Not found")
        refusal = self._authenticate(request)
        if refusal is not None:
            return refusal
        with self.lock:
            if self.forced:
                return self.forced.pop(0)
        if self.account == "suspended":
            return error(400, "AccountSuspendedException", "Your account's ability to send email is restricted.")
        if self.account == "paused":
            return error(400, "SendingPausedException", "Sending is paused for this account.")
        try:
            body = json.loads(request.body)
            mime = cast(
                EmailMessage,
                message_from_bytes(base64.b64decode(body["Content"]["Raw"]["Data"]), policy=policy.default),
            )
            to = body["Destination"]["ToAddresses"]
        except (ValueError, KeyError, TypeError) as exc:
            return error(400, "BadRequestException", f"Invalid request: {exc!r}")
        tags = body.get("EmailTags", [])
        if len(tags) > 50 or not all(_TAG.match(t.get("Name", "")) and _TAG.match(t.get("Value", "")) for t in tags):
            return error(400, "BadRequestException", "Tag names and values may contain only A-Z, a-z, 0-9, _ and -.")
        refused = [a for a in to if a.lower() in self.rejected]
        if refused:
            identities = ", ".join(refused)
            return error(400, "MessageRejected", f"Email address is not verified. The following identities failed "
                         f"the check in region {self.region.upper()}: {identities}")  # fmt: skip
        message_id = f"0100{uuid.uuid4().hex}-000000"
        with self.lock:
            self.accepted.append({**body, "mime": mime, "MessageId": message_id})
        return Reply(200, {"MessageId": message_id})

    def _authenticate(self, request: Request) -> Reply | None:
        match = _AUTH.fullmatch(request.headers.get("authorization", ""))
        if match is None:
            return error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        key, day, region, service, signed, signature = match.groups()
        if key != self.access_key_id:
            return error(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
        timestamp = request.headers.get("x-amz-date", "")
        if region != self.region or service != "ses" or not timestamp.startswith(day):
            return error(403, "InvalidSignatureException", f"Credential should be scoped to {self.region}/ses.")
        try:
            signed_at = datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return error(403, "IncompleteSignature", "X-Amz-Date is missing or malformed.")
        now = datetime.now(UTC)
        if abs(now - signed_at) > SKEW:
            message = f"Signature expired: {timestamp} is now earlier than {(now - SKEW):%Y%m%dT%H%M%SZ} (5 min.)"
            return error(403, "InvalidSignatureException", message)
        expected = _signature(request, signed.split(";"), timestamp, Credentials(key, self.secret), region)
        if not hmac.compare_digest(expected, signature):
            message = "The request signature we calculated does not match the signature you provided."
            return error(403, "InvalidSignatureException", message)
        return None


def _signature(request: Request, signed: list[str], timestamp: str, credentials: Credentials, region: str) -> str:
    headers = {name: request.headers.get(name, "") for name in signed}
    url = f"http://{headers.get('host', '')}{request.path}" + (f"?{request.query}" if request.query else "")
    aws = AWSRequest(method=request.method, url=url, data=request.body, headers=headers)
    aws.context["timestamp"] = timestamp
    signer = SigV4Auth(credentials, "ses", region)
    canonical = signer.canonical_request(aws)
    return str(signer.signature(signer.string_to_sign(aws, canonical), aws))


@contextmanager
def running(fake: FakeSes | None = None) -> Iterator[FakeSes]:
    """A fake SES served on 127.0.0.1 while the block runs (``fake.url`` is its base URL)."""
    fake = fake or FakeSes()
    with serving(fake.handle) as url:
        fake.url = url
        yield fake
