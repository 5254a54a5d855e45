"""API keys: who may call the API, in which role. The first aggregate, so the audit log works from day one."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import ApiKeyAlreadyRevoked, InvalidName, UnknownRole
from domain.events import TidingsAggregate

MAX_NAME = 100


class Role(StrEnum):
    """What a key may do; admin may do everything."""

    ADMIN = "admin"
    EDITOR = "editor"
    APPROVER = "approver"
    ANALYST = "analyst"


def parse_role(value: str) -> Role:
    """The role named by ``value``, or ``UnknownRole``."""
    try:
        return Role(value)
    except ValueError:
        allowed = [r.value for r in Role]
        raise UnknownRole(f"unknown role {value!r}", allowed=allowed) from None


def clean_name(value: str) -> str:
    """A trimmed name, or ``InvalidName``."""
    name = value.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise InvalidName(f"name must be 1 to {MAX_NAME} printable characters", value=value[:120])
    return name


class ApiKey(TidingsAggregate):
    """A key's identity, role and lifecycle; the secret itself is never stored, only its hash."""

    # Names of event fields the audit log must never show.
    redacted: ClassVar[frozenset[str]] = frozenset({"token_hash"})

    @classmethod
    def issue(cls, key_id: UUID, name: str, role: str, token_hash: str, prefix: str) -> ApiKey:
        """Issue a new key after checking its name and role."""
        return cls(id=key_id, name=clean_name(name), role=parse_role(role).value, token_hash=token_hash, prefix=prefix)

    @event("Issued")
    def __init__(self, id: UUID, name: str, role: str, token_hash: str, prefix: str) -> None:  # noqa: A002
        self.name = name
        self.role = role
        self.token_hash = token_hash
        self.prefix = prefix
        self.revoked = False

    def rename(self, name: str) -> None:
        """Give the key a new display name."""
        self._renamed(clean_name(name))

    @event("Renamed")
    def _renamed(self, name: str) -> None:
        self.name = name

    def revoke(self) -> None:
        """Stop the key from authenticating, for good."""
        if self.revoked:
            raise ApiKeyAlreadyRevoked("this API key is already revoked", key_id=str(self.id))
        self._revoked()

    @event("Revoked")
    def _revoked(self) -> None:
        self.revoked = True
