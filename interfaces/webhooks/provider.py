"""The interface every ESP adapter implements, and the errors it may raise.

An adapter is pure: it verifies raw bytes and parses them, and never does I/O itself. What it needs
from the outside (the clock, the URL the request arrived at, certificate fetching for SNS) comes in a
``VerifyContext``; what it needs the route to do afterwards (remember a signature for replay
protection) it returns in a ``Verified``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

import msgspec

from domain.email_event import NormalizedEvent, Quarantined

MAX_NESTING = 32


class WebhookRejected(Exception):
    """Base of the errors that reject a whole request; nothing it carried is stored."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class VerificationFailed(WebhookRejected):
    """Missing or wrong credentials or signature, or a timestamp outside the window (401)."""

    status = 401


class BadPayload(WebhookRejected):
    """The body as a whole is unusable: not UTF-8, not JSON, wrong shape, nested too deep (400)."""

    status = 400


@dataclass(frozen=True)
class WebhookRequest:
    """What arrived: the full URL, lower-cased header names, and the raw body bytes."""

    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class VerifyContext:
    """What verification may use from the outside world."""

    now: datetime
    fetch_certificate: Callable[[str], bytes] | None = None


@dataclass(frozen=True)
class Verified:
    """Verification passed; ``replay_key`` (if any) must not have been seen within ``replay_ttl`` seconds."""

    method: str
    replay_key: str | None = None
    replay_ttl: int = 0


@dataclass(frozen=True)
class Handshake:
    """A control message (e.g. SNS SubscriptionConfirmation) rather than events."""

    kind: str
    details: Mapping[str, Any]


Parsed = list[NormalizedEvent | Quarantined]


class Provider(Protocol):
    """One ESP's webhook scheme."""

    NAME: ClassVar[str]
    # Content types the ESP posts with (lower-case media types, no parameters).
    CONTENT_TYPES: ClassVar[tuple[str, ...]]
    # msgspec Struct validating this provider's `webhook` settings on an ESP connection.
    Settings: ClassVar[type[msgspec.Struct]]

    def verify(self, request: WebhookRequest, settings: Any, ctx: VerifyContext) -> Verified:
        """Authenticate the raw request; raise ``VerificationFailed``."""
        ...

    def parse(self, request: WebhookRequest) -> Parsed | Handshake:
        """Normalize every item; bad items become ``Quarantined``; raise ``BadPayload`` for an unusable body."""
        ...


def decode_json(body: bytes) -> Any:
    """Strict JSON decoding with the error messages the endpoint returns (exact big integers kept)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadPayload(f"body is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise BadPayload(f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadPayload(f"body is nested deeper than {MAX_NESTING} levels") from None
    if _depth(value) > MAX_NESTING:
        raise BadPayload(f"body is nested deeper than {MAX_NESTING} levels")
    return value


def _depth(value: Any) -> int:
    # Iterative: a recursive walk would itself overflow on hostile input. Only containers are visited (a
    # scalar adds one level to the container holding it), which makes a batch of flat items ~5x cheaper.
    deepest, stack = 1, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if depth >= deepest:
                deepest = depth + 1
                if deepest > MAX_NESTING:
                    return deepest
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return deepest
