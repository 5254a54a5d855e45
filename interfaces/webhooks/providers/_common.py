"""Pieces several adapters share: settings bases, credential checks, time and address parsing."""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from interfaces.webhooks.provider import VerificationFailed


class BasicAuth(msgspec.Struct, forbid_unknown_fields=True):
    """Credentials the ESP embeds in the webhook URL (sent as HTTP Basic auth)."""

    username: str
    password: str


class WebhookSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings every provider accepts."""

    rate_limit_per_second: float | None = None
    max_body_bytes: int | None = None


def check_basic_auth(headers: Mapping[str, str], expected: BasicAuth) -> None:
    """Constant-time check of HTTP Basic credentials."""
    scheme, _, encoded = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise VerificationFailed("missing HTTP Basic credentials")
    try:
        supplied = base64.b64decode(encoded.strip(), validate=True)
    except ValueError:
        raise VerificationFailed("malformed HTTP Basic credentials") from None
    wanted = f"{expected.username}:{expected.password}".encode()
    if not hmac.compare_digest(supplied, wanted):
        raise VerificationFailed("wrong HTTP Basic credentials")


def check_bearer(headers: Mapping[str, str], expected: str) -> None:
    """Constant-time check of a bearer token."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise VerificationFailed("missing bearer token")
    if not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise VerificationFailed("wrong bearer token")


def check_freshness(sent_at: float, now: datetime, past: float, future: float) -> None:
    """Refuse timestamps older than ``past`` or further ahead than ``future`` seconds."""
    age = now.timestamp() - sent_at
    if age > past:
        raise VerificationFailed(f"timestamp is {int(age)} s old; the limit is {int(past)} s")
    if -age > future:
        raise VerificationFailed(f"timestamp is {int(-age)} s in the future; the limit is {int(future)} s")


def utc_from_unix(value: Any) -> datetime:
    """A UTC instant from unix seconds given as int, float or numeric string (sub-second kept)."""
    return datetime.fromtimestamp(float(value), UTC)


def utc_from_iso(value: str) -> datetime:
    """A UTC instant from ISO 8601 with an offset or ``Z`` (fractions beyond microseconds are cut)."""
    # Python >= 3.11 parses "Z" and 7-digit fractions (Postmark), truncating to microseconds.
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without offset: {value!r}")
    return parsed.astimezone(UTC)


def one_credential(basic_auth: Any, bearer_token: str | None) -> None:
    """Settings with a choice of credential must carry exactly one (``ValueError`` otherwise)."""
    if (basic_auth is None) == (bearer_token is None):
        raise ValueError("set exactly one of basic_auth and bearer_token")


def check_credential(headers: Mapping[str, str], basic_auth: BasicAuth | None, bearer_token: str | None) -> str:
    """Check whichever credential the settings carry; returns the scheme's name."""
    if basic_auth is not None:
        check_basic_auth(headers, basic_auth)
        return "basic_auth"
    if bearer_token is None:
        raise VerificationFailed("the connection has no credentials configured")
    check_bearer(headers, bearer_token)
    return "bearer_token"


def flat(values: Mapping[str, Any] | None) -> dict[str, str]:
    """Metadata as strings: nested values become compact JSON, so nothing is lost."""
    out: dict[str, str] = {}
    for key, value in (values or {}).items():
        out[str(key)] = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    return out


def address(value: Any) -> str:
    """A recipient address, trimmed and lower-cased; ``ValueError`` when it is not one."""
    if not isinstance(value, str) or "@" not in value:
        raise ValueError(f"not an email address: {value!r}")
    return value.strip().lower()


def text_or_none(value: Any) -> str | None:
    """Strings stay, numbers (ids beyond 2^53 included) become exact strings, others None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return None
