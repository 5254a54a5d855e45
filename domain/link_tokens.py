"""Signed link tokens for the contact-facing pages (ADR 0004 §6): who, for what, until when — never the email.

A token is ``base64url(payload) "." base64url(HMAC-SHA256(key, payload))`` with the payload the compact JSON
array ``[version, key_id, contact_id, purpose, category | null, expires_unix]``. Each key id has its own key,
derived from the deployment's secret with HKDF-SHA256 (RFC 5869), so rotating means signing with a new key id
while the old ones still verify until their links expire; dropping a key id retires its links at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from domain.errors import Invalid

VERSION = 1
MAX_TOKEN_LENGTH = 512
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
CATEGORY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_SALT = b"tidings link tokens v1"
_MAC_BYTES = hashlib.sha256().digest_size


class Purpose(StrEnum):
    """What a link lets its holder do."""

    PREFERENCES = "preferences"
    UNSUBSCRIBE = "unsubscribe"
    RESUBSCRIBE = "resubscribe"


# Unsubscribe links live in old mail (List-Unsubscribe), so they outlast preference-center links; a re-subscribe
# confirmation answers a request made just now, so its link is short-lived.
LIFETIME = {
    Purpose.PREFERENCES: timedelta(days=90),
    Purpose.UNSUBSCRIBE: timedelta(days=365),
    Purpose.RESUBSCRIBE: timedelta(days=7),
}


class BadLinkToken(Invalid):
    """The token is malformed, tampered with, signed by an unknown key, or meant for another page."""

    code = "bad_link_token"


class ExpiredLinkToken(Invalid):
    """The token was genuine but its expiry has passed."""

    code = "expired_link_token"


class InvalidLinkKeys(Invalid):
    """Key ids are 1 to 16 of A-Z a-z 0-9 _ -, listed once each, at least one; the secret is not empty."""

    code = "invalid_link_keys"


@dataclass(frozen=True)
class LinkClaims:
    """What a verified token says."""

    contact_id: UUID
    purpose: Purpose
    category: str | None
    expires_at: datetime
    key_id: str


def hkdf_sha256(secret: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 HKDF with SHA-256: extract a pseudorandom key from ``secret``, expand it for ``info``."""
    prk = hmac.new(salt, secret, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out, counter = out + block, counter + 1
    return out[:length]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadLinkToken("the link is not valid") from None
    # The decoder skips stray characters and ignores spare low bits: only the one canonical spelling counts,
    # so no two different strings verify as the same token.
    if _encode(raw) != text:
        raise BadLinkToken("the link is not valid")
    return raw


class LinkKeys:
    """The keys that sign (the first key id) and verify (every key id) link tokens."""

    def __init__(self, secret: str | bytes, key_ids: Sequence[str]) -> None:
        secret_bytes = secret.encode() if isinstance(secret, str) else secret
        if not secret_bytes:
            raise InvalidLinkKeys("the secret key is empty")
        if not key_ids or len(set(key_ids)) != len(key_ids) or not all(KEY_ID.fullmatch(k) for k in key_ids):
            raise InvalidLinkKeys("link key ids must be distinct, 1-16 of A-Z a-z 0-9 _ -", key_ids=list(key_ids))
        self.signing_key_id = key_ids[0]
        self._keys = {k: hkdf_sha256(secret_bytes, _SALT, b"link-token:" + k.encode()) for k in key_ids}

    def sign(
        self,
        contact_id: UUID,
        purpose: Purpose,
        now: datetime,
        category: str | None = None,
        lifetime: timedelta | None = None,
    ) -> str:
        """A token for ``contact_id`` and ``purpose`` (optionally one category), valid for the purpose's lifetime."""
        if category is not None and not CATEGORY.fullmatch(category):
            raise InvalidLinkKeys("a link's category must be a category key", category=category)
        expires = int((now + (lifetime or LIFETIME[purpose])).timestamp())
        claims = [VERSION, self.signing_key_id, str(contact_id), purpose.value, category, expires]
        payload = json.dumps(claims, separators=(",", ":")).encode()
        return f"{_encode(payload)}.{_encode(self._mac(self.signing_key_id, payload))}"

    def verify(self, token: str, purpose: Purpose, now: datetime) -> LinkClaims:
        """The claims of a genuine, unexpired token for ``purpose``; else BadLinkToken or ExpiredLinkToken."""
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise BadLinkToken("the link is not valid")
        encoded_payload, encoded_mac = token.split(".")
        payload, mac = _decode(encoded_payload), _decode(encoded_mac)
        key_id = _key_id_of(payload)
        key = self._keys.get(key_id or "")
        # Same work whether the key id is known or not; the MAC is compared in constant time.
        expected = hmac.new(key or b"", payload, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, mac) or key is None or len(mac) != _MAC_BYTES:
            raise BadLinkToken("the link is not valid")
        claims = _claims(payload)
        if claims.purpose is not purpose:
            raise BadLinkToken("this link is for another page", purpose=claims.purpose.value)
        if now >= claims.expires_at:
            raise ExpiredLinkToken("the link has expired", expired_at=claims.expires_at.isoformat())
        return claims

    def _mac(self, key_id: str, payload: bytes) -> bytes:
        return hmac.new(self._keys[key_id], payload, hashlib.sha256).digest()


def _key_id_of(payload: bytes) -> str | None:
    # Read before the MAC is checked, so nothing beyond picking the key is trusted from it.
    try:
        claims = json.loads(payload)
    except ValueError:
        return None
    if isinstance(claims, list) and len(claims) > 1 and isinstance(claims[1], str):
        return claims[1]
    return None


def _claims(payload: bytes) -> LinkClaims:
    # Only our own signature reaches here; a shape we never sign is still refused rather than trusted.
    try:
        version, key_id, contact, purpose, category, expires = json.loads(payload)
        valid = (
            version == VERSION
            and (category is None or (isinstance(category, str) and CATEGORY.fullmatch(category)))
            and type(expires) is int
        )
        if valid:
            return LinkClaims(
                UUID(contact), Purpose(purpose), category, datetime.fromtimestamp(expires, UTC), str(key_id)
            )
    except (ValueError, TypeError, OverflowError, OSError):
        pass
    raise BadLinkToken("the link is not valid")
