"""API key use cases: issue (secret shown once), rename, revoke, and the bootstrap admin."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from uuid import UUID, uuid4

from eventsourcing.utils import get_topic

from application.base import TidingsApplication
from domain.api_key import ApiKey, Role
from domain.errors import Conflict
from domain.ids import bootstrap_admin_key_id

TOKEN_PREFIX = "tdg_"  # noqa: S105 - a public marker that makes leaked keys greppable, not a secret


def hash_token(token: str) -> str:
    """SHA-256 of a key: keys carry 256 random bits, so a fast hash is safe and lookups stay cheap."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh random API key."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class IssuedKey:
    """A key just issued: the only moment its secret exists outside the caller's hands."""

    key: ApiKey
    token: str


class ApiKeys(TidingsApplication):
    """Issue, rename and revoke API keys."""

    def issue(self, name: str, role: str) -> IssuedKey:
        """Issue a key; the returned token is never stored and cannot be shown again."""
        token = new_token()
        key = ApiKey.issue(uuid4(), name, role, hash_token(token), token[:10])
        self.save(key)
        return IssuedKey(key, token)

    def rename(self, key_id: UUID, name: str) -> ApiKey:
        """Rename a key."""
        key: ApiKey = self.load(key_id, ApiKey)
        key.rename(name)
        self.save(key)
        return key

    def revoke(self, key_id: UUID) -> ApiKey:
        """Revoke a key for good."""
        key: ApiKey = self.load(key_id, ApiKey)
        key.revoke()
        self.save(key)
        return key

    def get(self, key_id: UUID) -> ApiKey:
        """A key's current state (for the audit and CLI paths)."""
        key: ApiKey = self.load(key_id, ApiKey)
        return key

    def any_issued(self) -> bool:
        """True once any key has ever been issued (asked of the store, not a read model)."""
        topic = get_topic(ApiKey.Issued)  # type: ignore[attr-defined]
        return bool(self.recorder.select_notifications(start=None, limit=1, topics=[topic]))

    def issue_bootstrap_admin(self) -> IssuedKey | None:
        """Issue the first admin key on an empty store; ``None`` when keys already exist."""
        if self.any_issued():
            return None
        token = new_token()
        # A fixed id: a second process racing this one gets Conflict instead of a second admin.
        key = ApiKey.issue(bootstrap_admin_key_id(), "bootstrap admin", Role.ADMIN, hash_token(token), token[:10])
        try:
            self.save(key)
        except Conflict:
            return None
        return IssuedKey(key, token)
