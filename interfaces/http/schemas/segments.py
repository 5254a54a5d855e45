"""Segment request and response shapes."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec

from interfaces.http.schemas.keys import Name, Reason

Description = Annotated[str, msgspec.Meta(max_length=2000, description="What the segment is for")]
Definition = Annotated[
    dict[str, Any], msgspec.Meta(description="A definition in the segment language (see docs/segments.md)")
]


class SegmentCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Save a new segment."""

    name: Name
    definition: Definition
    description: Description = ""
    reason: Reason | None = None


class SegmentUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Change a segment; a new definition becomes a new revision."""

    name: Name | None = None
    description: Description | None = None
    definition: Definition | None = None
    reason: Reason | None = None


class SegmentArchive(msgspec.Struct, forbid_unknown_fields=True):
    """Archive a segment."""

    reason: Reason | None = None


class PreviewRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A definition to count without saving it."""

    definition: Definition
    sample: Annotated[int, msgspec.Meta(ge=0, le=50)] = 10


class SegmentOut(msgspec.Struct):
    """A saved segment."""

    id: UUID
    name: str
    description: str
    definition: dict[str, Any]
    revision: int
    archived: bool
    created_at: str
    updated_at: str
    created_by: str
    members: int | None


class Revision(msgspec.Struct):
    """One revision of a segment's definition."""

    revision: int
    definition: dict[str, Any]
    saved_at: str
    saved_by: str


class MemberOut(msgspec.Struct):
    """A contact in a segment."""

    id: UUID
    email: str
    attributes: dict[str, Any]


class MembersPage(msgspec.Struct):
    """One page of members; pass ``next_cursor`` back as ``cursor`` for the next."""

    items: list[MemberOut]
    next_cursor: str | None


class CountOut(msgspec.Struct):
    """How many contacts a segment holds."""

    count: int
    as_of: str


class PreviewOut(msgspec.Struct):
    """A definition's audience size and a few of its members."""

    count: int
    sample: list[MemberOut]
    as_of: str
    cached: bool
