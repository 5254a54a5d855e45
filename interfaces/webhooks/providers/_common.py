"""Pieces several adapters share: settings bases, credential checks, keys, time, text and metadata parsing."""

from __future__ import annotations

import base64
import hmac
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import msgspec
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from interfaces.webhooks.provider import BadPayload, VerificationFailed, Verified, decode_json


class BasicAuth(msgspec.Struct, forbid_unknown_fields=True):
    """Credentials the ESP embeds in the webhook URL (sent as HTTP Basic auth)."""

    username: str
    password: str


class WebhookSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Settings every provider accepts."""

    rate_limit_per_second: float | None = None
    max_body_bytes: int | None = None


class BasicOrBearerSettings(WebhookSettings, kw_only=True):
    """Settings of an ESP that sends either HTTP Basic credentials or a bearer token; exactly one is set."""

    basic_auth: BasicAuth | None = None
    bearer_token: str | None = None

    def __post_init__(self) -> None:
        # Fail closed: a webhook without credentials would accept anyone's events.
        if (self.basic_auth is None) == (self.bearer_token is None) or self.bearer_token == "":
            raise ValueError("set exactly one of basic_auth or bearer_token")


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


def check_credential(
    headers: Mapping[str, str], basic_auth: BasicAuth | None, bearer_token: str | None = None
) -> Verified:
    """Check whichever credential the settings carry (Basic first)."""
    if basic_auth is not None:
        check_basic_auth(headers, basic_auth)
        return Verified(method="basic")
    if bearer_token:
        check_bearer(headers, bearer_token)
        return Verified(method="bearer")
    raise VerificationFailed("no webhook credentials are configured")


def check_freshness(sent_at: float, now: datetime, past: float, future: float) -> None:
    """Refuse timestamps older than ``past`` or further ahead than ``future`` seconds."""
    age = now.timestamp() - sent_at
    if age > past:
        raise VerificationFailed(f"timestamp is {int(age)} s old; the limit is {int(past)} s")
    if -age > future:
        raise VerificationFailed(f"timestamp is {int(-age)} s in the future; the limit is {int(future)} s")


@lru_cache(maxsize=64)
def load_public_key(text: str) -> PublicKeyTypes:
    """A public key shown as base64 DER; PEM armour and whitespace are ignored (``ValueError`` otherwise)."""
    body = re.sub(r"-----[A-Z ]+-----|\s", "", text)
    try:
        return serialization.load_der_public_key(base64.b64decode(body, validate=True))
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError("public_key is not a base64 DER public key") from None


def unix_or_none(value: Any, *, millis_from: float = math.inf) -> datetime | None:
    """A UTC instant from unix seconds (int, float or numeric string; sub-second kept), else None.

    Values of at least ``millis_from`` are read as milliseconds.
    """
    # bool is an int to Python, never a time to an ESP.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
        return datetime.fromtimestamp(seconds / 1000 if seconds >= millis_from else seconds, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def iso_or_none(value: Any) -> datetime | None:
    """A UTC instant from an ISO 8601 string with an offset or ``Z``, else None."""
    if not isinstance(value, str):
        return None
    # Python >= 3.11 parses "Z" and 7-digit fractions (Postmark), truncating to microseconds.
    try:
        parsed = datetime.fromisoformat(value.strip())
        return parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 pushed out of range by the offset
        return None


def one_or_many(body: Any) -> list[Any]:
    """The items of a body that is one event object or a JSON array of them; ``BadPayload`` otherwise."""
    if isinstance(body, dict):
        return [body]
    if isinstance(body, list):
        return body
    raise BadPayload("body must be an event object or a JSON array of event objects")


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


def string_or_none(value: Any, *, strip: bool = False) -> str | None:
    """A non-empty string (stripped first if asked), else None; numbers are not strings here."""
    if not isinstance(value, str):
        return None
    return (value.strip() if strip else value) or None


def first_text(*values: Any) -> str | None:
    """The first of ``values`` that ``text_or_none`` makes a non-empty string."""
    return next((text for value in values if (text := text_or_none(value))), None)


def as_dict(value: Any) -> dict[str, Any]:
    """The value if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_text(value: Any) -> str:
    """One metadata value as a string: strings as they are, anything else as compact JSON."""
    return value if isinstance(value, str) else msgspec.json.encode(value).decode()


def flat(values: Any, tags: Any = None) -> dict[str, str]:
    """Metadata as strings (null values dropped), plus a non-empty ``tags`` list unless that key is taken."""
    out = {str(k): as_text(v) for k, v in values.items() if v is not None} if isinstance(values, Mapping) else {}
    if isinstance(tags, list) and tags:
        # The sender's own metadata wins should it also use the key "tags".
        out.setdefault("tags", as_text(tags))
    return out


def embedded_json(value: Any) -> Any:
    """A JSON object or array held in a string (a custom header, a payload field), else None."""
    if not isinstance(value, str) or not value.lstrip().startswith(("{", "[")):
        return None
    try:
        return decode_json(value.encode("utf-8", "surrogatepass"))
    except BadPayload:
        return None


def spread_json(value: Any, name: str) -> dict[str, str]:
    """A string holding a JSON object spread into metadata keys; any other non-empty string kept under ``name``."""
    decoded = embedded_json(value)
    if isinstance(decoded, dict):
        return flat(decoded)
    return {name: value} if isinstance(value, str) and value else {}
