"""A local SendGrid v3 Mail Send endpoint that answers as SendGrid documents.

- ``Authorization: Bearer <key>`` or 401 with SendGrid's error body;
- body validation with 400 ``{"errors": [{"message", "field", "help"}]}``: personalizations 1..1000, a
  ``to`` in each, each address once per request, ``from.email``, content, a subject, string custom args;
- a body over ``max_bytes`` is 413 (SendGrid's limit is 30 MB; tests lower it);
- ``limit`` requests per ``window`` seconds, then 429 with ``X-RateLimit-Limit/-Remaining/-Reset``;
- ``fail_next``: statuses to answer for the next requests (injected 5xx);
- 202 with ``X-Message-Id`` keeps the request in ``accepted``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.transports.fake_server_thread import Reply, Request, serving

API_KEY = "SG.test-key"


def _error(message: str, field_name: str | None = None) -> dict[str, Any]:
    return {"message": message, "field": field_name, "help": None}


@dataclass
class Accepted:
    """One request SendGrid took: its body and the id it answered."""

    body: dict[str, Any]
    x_message_id: str


@dataclass
class FakeSendGrid:
    """The server's behaviour and what it has seen."""

    limit: int | None = None
    window: float = 60.0
    max_bytes: int = 30 * 1024 * 1024
    fail_next: list[int] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)
    requests: int = 0
    _window_start: float = 0.0
    _in_window: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: Request) -> Reply:
        with self._lock:
            self.requests += 1
            return self._handle(request)

    def _handle(self, request: Request) -> Reply:
        if (request.method, request.path) != ("POST", "/v3/mail/send"):
            return Reply(404, {"errors": [_error("not found")]})
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return Reply(401, {"errors": [_error("The provided authorization grant is invalid, expired, or revoked")]})
        if limited := self._rate_limited():
            return limited
        if self.fail_next:
            status = self.fail_next.pop(0)
            return Reply(status, {"errors": [_error("injected failure")]})
        if len(request.body) > self.max_bytes:
            return Reply(413, {"errors": [_error("Payload Too Large")]})
        try:
            body = json.loads(request.body)
        except ValueError:
            return Reply(400, {"errors": [_error("Bad Request", None)]})
        if errors := validate(body):
            return Reply(400, {"errors": errors})
        message_id = uuid.uuid4().hex[:22]
        self.accepted.append(Accepted(body, message_id))
        return Reply(202, b"", {"x-message-id": message_id})

    def _rate_limited(self) -> Reply | None:
        if self.limit is None:
            return None
        now = time.time()
        if now - self._window_start >= self.window:
            self._window_start, self._in_window = now, 0
        self._in_window += 1
        reset = str(int(self._window_start + self.window) + 1)
        if self._in_window > self.limit:
            headers = {"x-ratelimit-limit": str(self.limit), "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
            return Reply(429, {"errors": [_error("too many requests")]}, headers)
        return None

    def personalizations(self) -> list[dict[str, Any]]:
        """Every accepted personalization, in order."""
        return [p for a in self.accepted for p in a.body["personalizations"]]


def validate(body: dict[str, Any]) -> list[dict[str, Any]]:
    """SendGrid's 400 errors for ``body`` (the ones a transport can provoke)."""
    personalizations = body.get("personalizations") or []
    errors = []
    if not personalizations:
        errors.append(_error("You must have at least one personalization.", "personalizations"))
    if len(personalizations) > 1000:
        errors.append(
            _error(
                "The personalization block is limited to 1000 personalizations per API request. "
                f"You have provided {len(personalizations)} personalizations.",
                "personalizations",
            )
        )
    seen: set[str] = set()
    for i, p in enumerate(personalizations):
        to = p.get("to") or []
        if not to:
            errors.append(
                _error("The to parameter is required for all personalization objects.", f"personalizations.{i}.to")
            )
        for j, recipient in enumerate(to):
            email = str(recipient.get("email", "")).lower()
            if "@" not in email:
                errors.append(_error("Does not contain a valid address.", f"personalizations.{i}.to.{j}.email"))
            if email in seen:
                errors.append(
                    _error(
                        "Each unique email address in the personalizations array should only be included once.",
                        f"personalizations.{i}.to.{j}.email",
                    )
                )
            seen.add(email)
        if not (p.get("subject") or body.get("subject")):
            errors.append(_error("The subject is required.", f"personalizations.{i}.subject"))
        if any(not isinstance(v, str) for v in (p.get("custom_args") or {}).values()):
            errors.append(_error("Invalid type. Expected: string.", f"personalizations.{i}.custom_args"))
    if "@" not in str((body.get("from") or {}).get("email", "")):
        errors.append(_error("The from object must be provided for every email send.", "from"))
    if not body.get("content") and not body.get("template_id"):
        errors.append(_error("Unless a valid template_id is provided, the content parameter is required.", "content"))
    return errors


@contextmanager
def running(fake: FakeSendGrid) -> Iterator[str]:
    """Serve ``fake`` on 127.0.0.1; yields its base URL."""
    with serving(fake.handle) as url:
        yield url
