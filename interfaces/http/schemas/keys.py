"""API key request and response shapes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from domain.api_key import Role

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, description="Display name")]
Reason = Annotated[str, msgspec.Meta(max_length=500, description="Why; recorded in the audit log")]


class KeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Issue a key."""

    name: Name
    role: Role
    reason: Reason | None = None


class KeyUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Rename a key."""

    name: Name
    reason: Reason | None = None


class KeyRevoke(msgspec.Struct, forbid_unknown_fields=True):
    """Revoke a key."""

    reason: Reason | None = None


class Key(msgspec.Struct):
    """A key as listed (never its secret)."""

    id: UUID
    name: str
    role: Role
    prefix: str
    created_at: str
    created_by: str
    revoked_at: str | None
    active: bool


class KeyIssued(Key):
    """A key just issued; ``key`` is shown this once and cannot be retrieved again."""

    key: str = ""
