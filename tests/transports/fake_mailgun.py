"""A local Mailgun messages endpoint that answers as Mailgun documents.

- ``POST /v3/<domain>/messages``; another domain is 404 ``{"message": "Domain not found: …"}``;
- HTTP basic auth ``api:<key>`` or 401 ``Forbidden``;
- form validation with 400 ``{"message": …}``: from, to (valid addresses, at most 1000), text or html;
- ``limit`` requests per ``window`` seconds, then 429 with ``Retry-After`` and ``X-RateLimit-*``;
- ``fail_next``: statuses to answer for the next requests (injected 5xx); ``delay`` before answering;
- 200 ``{"id": "<…@domain>", "message": "Queued. Thank you."}``, the form kept in ``accepted``; with
  ``recipient-variables`` each recipient's copy is expanded (``%recipient.x%``) into ``delivered``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import HTTP
from email.utils import parseaddr

from tests.transports.fake_server_thread import Reply, Request, serving

API_KEY = "key-test"
DOMAIN = "mg.example.com"
_VARIABLE = re.compile(r"%recipient\.([^%]+)%")


def parse_form(content_type: str, body: bytes) -> list[tuple[str, str]]:
    """The fields of a multipart/form-data body, in order."""
    envelope = message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=HTTP)
    out = []
    for part in envelope.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        out.append((str(name), payload.decode()))
    return out


@dataclass
class Delivered:
    """One recipient's copy as Mailgun would build it."""

    to: str
    subject: str
    html: str
    headers: dict[str, str]
    variables: dict[str, str]
    message_id: str


@dataclass
class FakeMailgun:
    """The server's behaviour and what it has seen."""

    limit: int | None = None
    window: float = 60.0
    fail_next: list[int] = field(default_factory=list)
    delay: float = 0.0  # seconds before answering (a slow API, for client timeouts)
    accepted: list[list[tuple[str, str]]] = field(default_factory=list)
    delivered: list[Delivered] = field(default_factory=list)
    requests: int = 0
    _window_start: float = 0.0
    _in_window: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: Request) -> Reply:
        with self._lock:
            self.requests += 1
            time.sleep(self.delay)
            return self._handle(request)

    def _handle(self, request: Request) -> Reply:
        expected = "Basic " + base64.b64encode(f"api:{API_KEY}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return Reply(401, b"Forbidden", {"content-type": "text/plain"})
        domain = request.path.removeprefix("/v3/").removesuffix("/messages")
        if request.method != "POST" or domain != DOMAIN:
            return Reply(404, {"message": f"Domain not found: {domain}"})
        if limited := self._rate_limited():
            return limited
        if self.fail_next:
            return Reply(self.fail_next.pop(0), {"message": "injected failure"})
        form = parse_form(request.headers.get("content-type", ""), request.body)
        if problem := validate(form):
            return Reply(400, {"message": problem})
        message_id = f"{time.strftime('%Y%m%d%H%M%S')}.{uuid.uuid4().hex[:12]}@{DOMAIN}"
        self.accepted.append(form)
        self.delivered += expand(form, message_id)
        return Reply(200, {"id": f"<{message_id}>", "message": "Queued. Thank you."})

    def _rate_limited(self) -> Reply | None:
        if self.limit is None:
            return None
        now = time.time()
        if now - self._window_start >= self.window:
            self._window_start, self._in_window = now, 0
        self._in_window += 1
        if self._in_window <= self.limit:
            return None
        wait = max(1, int(self._window_start + self.window - now) + 1)
        headers = {
            "retry-after": str(wait),
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(self._window_start + self.window)),
        }
        return Reply(429, {"message": "Too many requests"}, headers)


def validate(form: list[tuple[str, str]]) -> str | None:
    """Mailgun's 400 message for ``form``, if it has one."""
    names = [n for n, _ in form]
    to = [v for n, v in form if n == "to"]
    if "from" not in names:
        return "from parameter is missing"
    if not to:
        return "to parameter is missing"
    if len(to) > 1000:
        return "Too many recipients; max is 1000"
    if any("@" not in parseaddr(t)[1] for t in to):
        return "to parameter is not a valid address. please check documentation"
    if "text" not in names and "html" not in names:
        return "Need at least one of 'text' or 'html' parameters specified"
    if "recipient-variables" in names:
        try:
            json.loads(dict(form)["recipient-variables"])
        except ValueError:
            return "recipient-variables parameter is not a valid JSON"
    return None


def expand(form: list[tuple[str, str]], message_id: str) -> list[Delivered]:
    """Each recipient's copy, recipient variables substituted where Mailgun substitutes them."""
    values = dict(form)
    variables = json.loads(values.get("recipient-variables", "{}"))
    copies = []
    for to in (v for n, v in form if n == "to"):
        mine = {str(k): str(v) for k, v in variables.get(parseaddr(to)[1], {}).items()}

        def sub(text: str, mine: dict[str, str] = mine) -> str:
            # Substitution is part of batch sending: a request without recipient variables goes as written.
            if "recipient-variables" not in values:
                return text
            return _VARIABLE.sub(lambda m: mine.get(m.group(1), ""), text)

        headers = {n[2:]: sub(v) for n, v in form if n.startswith("h:")}
        user_variables = {n[2:]: sub(v) for n, v in form if n.startswith("v:")}
        copies.append(
            Delivered(
                to, sub(values.get("subject", "")), sub(values.get("html", "")), headers, user_variables, message_id
            )
        )
    return copies


@contextmanager
def running(fake: FakeMailgun) -> Iterator[str]:
    """Serve ``fake`` on 127.0.0.1; yields its base URL."""
    with serving(fake.handle) as url:
        yield url


__all__ = ["API_KEY", "DOMAIN", "FakeMailgun", "running"]
