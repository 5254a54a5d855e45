"""A local Postmark batch API that behaves as Postmark documents it.

https://postmarkapp.com/developer/user-guide/send-email-with-api/batch-emails and
https://postmarkapp.com/developer/api/overview#error-codes: a wrong or missing server token answers 401
with ErrorCode 10; more than 500 messages answer 422 with ErrorCode 410; invalid JSON 422/402; a payload
over the limit 413; otherwise 200 with one result per message in order, where a bad address fails with
300 and an inactive (suppressed) recipient with 406 while the others are accepted.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any

from tests.transports.fake_server_thread import Reply, Request, serving

TOKEN = "server-token-for-tests"
MAX_BATCH = 500


@dataclass
class FakePostmark:
    """State and knobs: what was accepted, which recipients are inactive, which answers to force."""

    token: str = TOKEN
    max_payload: int = 50 * 1024 * 1024
    inactive: set[str] = field(default_factory=set)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0  # batch requests that reached the endpoint
    batch_sizes: list[int] = field(default_factory=list)
    forced: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def reset(self) -> None:
        """Forget everything a previous test did."""
        self.inactive.clear()
        self.accepted.clear()
        self.batch_sizes.clear()
        self.forced.clear()
        self.requests = 0
        self.max_payload = 50 * 1024 * 1024

    def force(self, status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        """Answer the next batch request with ``status`` (a 429 rate limit, a 500, a 503 maintenance)."""
        self.forced.append((status, body or {"ErrorCode": status, "Message": f"forced {status}"}, headers or {}))

    def handle(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != "/email/batch":
            return Reply(404, {"ErrorCode": 404, "Message": "Not found"})
        if request.headers.get("x-postmark-server-token") != self.token:
            message = "Request does not contain a valid Server token."
            return Reply(401, {"ErrorCode": 10, "Message": message})
        with self.lock:
            self.requests += 1
            if self.forced:
                status, body, headers = self.forced.pop(0)
                return Reply(status, body, headers)
        if len(request.body) > self.max_payload:
            return Reply(413, {"ErrorCode": 413, "Message": "Payload Too Large"})
        try:
            batch = json.loads(request.body)
        except ValueError:
            return Reply(422, {"ErrorCode": 402, "Message": "Received invalid JSON input."})
        if not isinstance(batch, list):
            return Reply(422, {"ErrorCode": 403, "Message": "Incompatible JSON input: expected an array."})
        if len(batch) > MAX_BATCH:
            return Reply(422, {"ErrorCode": 410, "Message": f"Too many batch messages ({len(batch)}), max 500."})
        with self.lock:
            self.batch_sizes.append(len(batch))
            return Reply(200, [self._one(m) for m in batch])

    def _one(self, message: dict[str, Any]) -> dict[str, Any]:
        to = str(message.get("To", ""))
        addresses = [a for _, a in getaddresses([to])]
        if not message.get("From") or not addresses or not all("@" in a for a in addresses):
            return {"ErrorCode": 300, "Message": f"Error parsing 'To': Illegal email address '{to}'.", "To": to}
        if not message.get("HtmlBody") and not message.get("TextBody"):
            return {"ErrorCode": 300, "Message": "Provide either email TextBody or HtmlBody or both.", "To": to}
        inactive = [a for a in addresses if a.lower() in self.inactive]
        if inactive:
            text = (
                "You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: "
                f"{', '.join(inactive)}. Inactive recipients are ones that have generated a hard bounce, "
                "a spam complaint, or a manual suppression."
            )
            return {"ErrorCode": 406, "Message": text, "To": to}
        message_id = str(uuid.uuid4())
        self.accepted.append({**message, "MessageID": message_id})
        return {
            "ErrorCode": 0,
            "Message": "OK",
            "MessageID": message_id,
            "SubmittedAt": "2026-11-28T14:00:00Z",
            "To": to,
        }


@contextmanager
def running(fake: FakePostmark | None = None) -> Iterator[FakePostmark]:
    """A fake Postmark served on 127.0.0.1 while the block runs (``fake.url`` is its base URL)."""
    fake = fake or FakePostmark()
    with serving(fake.handle) as url:
        fake.url = url
        yield fake
