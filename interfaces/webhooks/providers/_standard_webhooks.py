"""The Standard Webhooks signature scheme, shared by ``standard_webhooks`` and ``resend`` (Svix).

Spec: https://www.standardwebhooks.com (github.com/standard-webhooks/standard-webhooks,
``spec/standard-webhooks.md``; reference ``libraries/python/standardwebhooks/webhooks.py``). The signed
content is ``{id}.{timestamp}.{raw body}``; the signature header is a space-separated list of
``v1,<base64 HMAC-SHA256>`` entries (several while the sender rotates keys; other versions such as the
asymmetric ``v1a,`` are ignored). Svix sends the same three headers prefixed ``svix-`` instead of
``webhook-``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from interfaces.webhooks.provider import VerificationFailed, Verified, WebhookRequest
from interfaces.webhooks.providers._common import WebhookSettings, check_freshness

# The reference implementation's tolerance, both ways.
TOLERANCE_SECONDS = 300
_FAMILIES = {"webhook": "standard-webhooks", "svix": "svix"}
_UNIX_SECONDS = re.compile(r"[0-9]{1,15}")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret; ``ValueError`` when it is not one."""
    text = secret.removeprefix("whsec_")
    # Like the reference library, accept secrets whose base64 padding was dropped.
    key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    if not key:
        raise ValueError("empty secret")
    return key


class SecretsSettings(WebhookSettings, kw_only=True):
    """The sender's ``whsec_`` secrets; more than one while it rotates keys."""

    secrets: list[str]

    def __post_init__(self) -> None:
        check_secrets(self.secrets)


def check_secrets(secrets: Sequence[str]) -> None:
    """``ValueError`` unless there is at least one secret and every one is ``whsec_<base64>``."""
    if not secrets:
        raise ValueError("at least one whsec_ secret is required")
    for index, secret in enumerate(secrets):
        try:
            secret_key(secret)
        except ValueError:
            # The message names the position only: secrets never appear in errors.
            raise ValueError(f"secrets[{index}] is not a whsec_<base64> secret") from None


def message_id(headers: Mapping[str, str]) -> str | None:
    """The ``webhook-id`` (or ``svix-id``) header: the sender's idempotency key for this message."""
    for family in _FAMILIES:
        value = headers.get(f"{family}-id")
        if value:
            return value
    return None


def verify(request: WebhookRequest, secrets: Sequence[str], now: datetime) -> Verified:
    """Check freshness and an HMAC-SHA256 ``v1`` signature by any of ``secrets`` over the raw body."""
    family = next((f for f in _FAMILIES if f"{f}-id" in request.headers), "webhook")
    msg_id = request.headers.get(f"{family}-id", "")
    stamp = request.headers.get(f"{family}-timestamp", "").strip()
    signatures = request.headers.get(f"{family}-signature", "")
    if not (msg_id and stamp and signatures):
        raise VerificationFailed(f"missing {family}-id, {family}-timestamp or {family}-signature header")
    if not _UNIX_SECONDS.fullmatch(stamp):
        raise VerificationFailed(f"{family}-timestamp is not unix seconds")
    sent_at = int(stamp)
    check_freshness(sent_at, now, TOLERANCE_SECONDS, TOLERANCE_SECONDS)
    keys = _keys(secrets)
    # Signed as the reference library does: the timestamp as an integer, the body byte for byte.
    signed = f"{msg_id}.{sent_at}.".encode("utf-8", "surrogatepass") + request.body
    expected = [hmac.new(key, signed, hashlib.sha256).digest() for key in keys]
    matched = False
    for candidate in _v1_signatures(signatures):
        for digest in expected:
            matched |= hmac.compare_digest(candidate, digest)
    if not matched:
        raise VerificationFailed(f"no {family}-signature v1 entry matches any configured secret")
    return Verified(method=_FAMILIES[family])


def _keys(secrets: Sequence[str]) -> list[bytes]:
    keys = []
    for secret in secrets:
        try:
            keys.append(secret_key(secret))
        except ValueError:
            continue
    if not keys:
        raise VerificationFailed("no valid signing secret is configured")
    return keys


def _v1_signatures(header: str) -> list[bytes]:
    found = []
    for entry in header.split():
        version, comma, value = entry.partition(",")
        if version != "v1" or not comma:
            continue
        try:
            found.append(base64.b64decode(value, validate=True))
        except ValueError:
            continue
    return found
