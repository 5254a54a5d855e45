"""Tag endpoints: the catalogue (create, list, tree, read, edit, delete), a contact's tags, bulk tagging."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from application.tags import MAX_BULK_CONTACTS
from domain.api_key import Role
from domain.errors import Invalid, NotFound
from domain.events import because
from domain.tag_catalogue import UnknownTag
from interfaces.bootstrap import Container
from interfaces.http.auth import ANY_ROLE, require
from interfaces.http.errors import documented
from interfaces.http.schemas.tags import (
    BulkTagged,
    BulkTagging,
    ContactTags,
    ContactTagsChange,
    Tag,
    TagCreate,
    TagTreeNode,
    TagUpdate,
)
from projections.segment_memberships import member_page
from projections.segments import get_segment
from projections.tags import TagRow, contact_tags, get_tag, list_tags, missing_contacts, tag_tree
from projections.tags import TagTreeNode as TreeRow

EDITOR = require(Role.EDITOR)
_ERRORS = (401, 403, 429)


def _tag(row: TagRow) -> Tag:
    return Tag(row.id, row.path, row.parent_id, row.slug, row.description, row.metadata, row.depth, row.created_at)


def _tree(node: TreeRow) -> TagTreeNode:
    t = node.tag
    return TagTreeNode(
        t.id, t.path, t.parent_id, t.slug, t.description, t.metadata, t.depth, t.created_at,
        node.count, node.own_count, [_tree(c) for c in node.children],
    )  # fmt: skip


def _read(container: Container, path: str, settle: bool = False) -> Tag:
    if settle:
        container.settle()
    # Litestar's path parameters keep their leading slash.
    row = get_tag(container.db, path.lstrip("/"))
    if row is None:
        raise UnknownTag(f"no tag {path.lstrip('/')!r}", path=path.lstrip("/"))
    return _tag(row)


def _update(container: Container, path: str, data: TagUpdate) -> Tag:
    changes = {k: getattr(data, k) for k in ("description", "metadata", "slug", "parent")}
    with because(data.reason):
        new_path = container.tags.edit(path.lstrip("/"), **changes)
    return _read(container, new_path, settle=True)


def _delete(container: Container, path: str, force: bool, reason: str | None) -> None:
    container.settle()  # the in-use check reads the read model: let it include every tagging so far
    with because(reason):
        container.tags.delete(path.lstrip("/"), force)
    container.settle()


def _known_contacts(container: Container, contact_ids: Sequence[UUID]) -> None:
    missing = missing_contacts(container.db, contact_ids)
    if missing:
        container.settle()  # a contact created a moment ago may not have reached the read model yet
        missing = missing_contacts(container.db, missing)
    if len(contact_ids) == 1 and missing:
        raise NotFound(f"contact {missing[0]} not found", contact_id=str(missing[0]))
    if missing:
        raise NotFound(f"{len(missing)} contacts not found; nothing was tagged",
                       count=len(missing), unknown=[str(m) for m in missing[:100]])  # fmt: skip


def _bulk_targets(container: Container, data: BulkTagging) -> list[UUID]:
    if (data.contact_ids is None) == (data.segment_id is None):
        raise Invalid("give exactly one of contact_ids and segment_id", fields=["contact_ids", "segment_id"])
    if data.contact_ids is not None:
        _known_contacts(container, data.contact_ids)
        return data.contact_ids
    if get_segment(container.db, data.segment_id) is None:  # type: ignore[arg-type]
        raise NotFound(f"segment {data.segment_id} not found", segment_id=str(data.segment_id))
    container.settle()
    # The members as they are now: taken before tagging, which may itself change membership.
    rows = member_page(container.db, str(data.segment_id), None, MAX_BULK_CONTACTS + 1)
    if len(rows) > MAX_BULK_CONTACTS:
        raise Invalid(
            f"the segment has more than {MAX_BULK_CONTACTS:,} members; bulk tagging takes at most that many",
            segment_id=str(data.segment_id), limit=MAX_BULK_CONTACTS,
        )  # fmt: skip
    return [UUID(r["id"]) for r in rows]


def _contact_tags(container: Container, contact_id: UUID) -> ContactTags:
    container.settle()
    return ContactTags(contact_id, contact_tags(container.db, contact_id))


class TagsController(Controller):
    """The tag catalogue: hierarchical paths with descriptions and metadata."""

    path = "/tags"
    tags = ["tags"]

    @post("/", operation_id="createTag", guards=[EDITOR], sync_to_thread=True,
          responses=documented(400, 409, 415, 422, *_ERRORS))  # fmt: skip
    def create(self, data: JSONBody[TagCreate], container: NamedDependency[Container]) -> Tag:
        """Create a tag (and any missing ancestors)."""
        with because(data.reason):
            container.tags.create(data.path, data.description, data.metadata)
        return _read(container, data.path, settle=True)

    @get("/", operation_id="listTags", guards=[ANY_ROLE], sync_to_thread=True, responses=documented(400, *_ERRORS))
    def list(
        self, container: NamedDependency[Container], tree: FromQuery[bool] = False
    ) -> list[Tag] | list[TagTreeNode]:
        """Every tag (parents first); ``?tree=true``: nested, with contact counts per node."""
        if tree:
            return [_tree(n) for n in tag_tree(container.db)]
        return [_tag(r) for r in list_tags(container.db)]

    @post("/bulk", operation_id="bulkTagContacts", guards=[EDITOR], status_code=200, sync_to_thread=True,
          responses=documented(400, 404, 409, 415, 422, *_ERRORS))  # fmt: skip
    def bulk(self, data: JSONBody[BulkTagging], container: NamedDependency[Container]) -> BulkTagged:
        """Add and remove tags on up to 10,000 contacts, listed or a saved segment's members (atomic batches of 500).

        404 if any listed contact or the segment is unknown.
        """
        contact_ids = _bulk_targets(container, data)
        with because(data.reason):
            changed = container.tags.tag_many(contact_ids, data.add, data.remove)
        container.settle()
        return BulkTagged(len(set(contact_ids)), changed)

    @get("/{tag_path:path}", operation_id="getTag", guards=[ANY_ROLE], sync_to_thread=True,
         responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def read(self, tag_path: FromPath[str], container: NamedDependency[Container]) -> Tag:
        """One tag by path."""
        return _read(container, tag_path)

    @patch("/{tag_path:path}", operation_id="updateTag", guards=[EDITOR], sync_to_thread=True,
           responses=documented(400, 404, 409, 415, 422, *_ERRORS))  # fmt: skip
    def update(self, tag_path: FromPath[str], data: JSONBody[TagUpdate], container: NamedDependency[Container]) -> Tag:
        """Change details, rename (``slug``) and/or move (``parent``, "" for the top level); the subtree follows."""
        return _update(container, tag_path, data)

    @delete("/{tag_path:path}", operation_id="deleteTag", guards=[EDITOR], sync_to_thread=True,
            responses=documented(400, 404, 409, *_ERRORS))  # fmt: skip
    def remove(
        self, tag_path: FromPath[str], container: NamedDependency[Container],
        force: FromQuery[bool] = False, reason: FromQuery[str | None] = None,
    ) -> None:  # fmt: skip
        """Delete a tag and its subtree; 409 while contacts carry any of them, unless ``?force=true``."""
        _delete(container, tag_path, force, reason)

    # A static route answers 405 for its other methods instead of falling through to the path parameter,
    # so these keep a top-level tag named "bulk" reachable (same behaviour, not in the schema twice).
    @get("/bulk", guards=[ANY_ROLE], sync_to_thread=True, include_in_schema=False)
    def read_bulk(self, container: NamedDependency[Container]) -> Tag:
        return _read(container, "bulk")

    @patch("/bulk", guards=[EDITOR], sync_to_thread=True, include_in_schema=False)
    def update_bulk(self, data: JSONBody[TagUpdate], container: NamedDependency[Container]) -> Tag:
        return _update(container, "bulk", data)

    @delete("/bulk", guards=[EDITOR], sync_to_thread=True, include_in_schema=False)
    def remove_bulk(
        self,
        container: NamedDependency[Container],
        force: FromQuery[bool] = False,
        reason: FromQuery[str | None] = None,
    ) -> None:
        _delete(container, "bulk", force, reason)


class ContactTagsController(Controller):
    """The tags one contact carries."""

    path = "/contacts/{contact_id:uuid}/tags"
    tags = ["tags"]

    @get("/", operation_id="getContactTags", guards=[ANY_ROLE], sync_to_thread=True,
         responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def read(self, contact_id: FromPath[UUID], container: NamedDependency[Container]) -> ContactTags:
        """The contact's tags (paths)."""
        _known_contacts(container, [contact_id])
        return ContactTags(contact_id, contact_tags(container.db, contact_id))

    @post("/", operation_id="tagContact", guards=[EDITOR], status_code=200, sync_to_thread=True,
          responses=documented(400, 404, 409, 415, 422, *_ERRORS))  # fmt: skip
    def change(
        self, contact_id: FromPath[UUID], data: JSONBody[ContactTagsChange], container: NamedDependency[Container]
    ) -> ContactTags:
        """Add tags (unknown paths are created) and remove tags (unknown paths are ignored)."""
        _known_contacts(container, [contact_id])
        with because(data.reason):
            container.tags.tag(contact_id, data.add, data.remove)
        return _contact_tags(container, contact_id)
