"""Tag request and response shapes.

Paths are plain strings here and validated by the domain, so a bad path is a 422 naming the offending
segment rather than a generic 400.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec

from application.tags import MAX_BULK_CONTACTS

PATH_HELP = "Lower-case slugs ([a-z0-9][a-z0-9_-]*, at most 64 characters) joined by '/', at most 8 levels"
TagPath = Annotated[str, msgspec.Meta(max_length=600, description=PATH_HELP, examples=["interests/sports"])]
Paths = Annotated[list[TagPath], msgspec.Meta(max_length=100)]
Description = Annotated[str, msgspec.Meta(max_length=2_000)]
Reason = Annotated[str, msgspec.Meta(max_length=500, description="Why; recorded in the audit log")]


class TagCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Create a tag; missing ancestors are created too."""

    path: TagPath
    description: Description = ""
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    reason: Reason | None = None


class TagUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Change any of: details, slug (rename), parent (move; "" for the top level). All or nothing."""

    description: Description | None = None
    metadata: dict[str, Any] | None = None
    slug: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    parent: TagPath | None = None
    reason: Reason | None = None


class Tag(msgspec.Struct):
    """A tag node."""

    id: UUID
    path: str
    parent_id: UUID | None
    slug: str
    description: str
    metadata: dict[str, Any]
    depth: int
    created_at: str


class TagTreeNode(Tag):
    """A node with its contact counts: ``count`` includes contacts tagged anywhere beneath it."""

    count: int = 0
    own_count: int = 0
    children: list[TagTreeNode] = msgspec.field(default_factory=list)


class ContactTagsChange(msgspec.Struct, forbid_unknown_fields=True):
    """Tags to add (unknown paths are created) and to remove (unknown paths are ignored)."""

    add: Paths = msgspec.field(default_factory=list)
    remove: Paths = msgspec.field(default_factory=list)
    reason: Reason | None = None


class ContactTags(msgspec.Struct):
    """The paths of the tags a contact carries."""

    contact_id: UUID
    tags: list[str]


class BulkTagging(msgspec.Struct, forbid_unknown_fields=True):
    """The same tagging for many contacts (each batch of 500 is saved atomically)."""

    contact_ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=MAX_BULK_CONTACTS)] | None = None
    segment_id: Annotated[UUID, msgspec.Meta(description="Tag the saved segment's current members instead")] | None = (
        None
    )
    add: Paths = msgspec.field(default_factory=list)
    remove: Paths = msgspec.field(default_factory=list)
    reason: Reason | None = None


class BulkTagged(msgspec.Struct):
    """How many contacts a bulk tagging covered and how many of their tag sets changed."""

    contacts: int
    changed: int
