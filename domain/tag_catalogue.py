"""The tag catalogue: every tag node (stable id, parent, slug, description, metadata) in one aggregate.

One aggregate keeps path uniqueness, acyclic moves and the depth limit consistent without read-model
lookups (ADR 0003). Node ids are uuid4, recorded in the event that creates the node: a node keeps its
id through renames and moves, and a path that is deleted and created again gets a new id, so tag sets
still holding the old id never resurrect the old tagging (a uuid5 of the path would alias both).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain.errors import Conflict, Invalid, NotFound, RuleViolated
from domain.events import TidingsAggregate
from domain.free_text import refuse_nul
from domain.ids import TAG_CATALOGUE
from domain.tag_paths import MAX_DEPTH, check_slug, join_path, parse_path

MAX_NODES = 10_000
MAX_DESCRIPTION = 2_000
MAX_METADATA_BYTES = 16_384
_ROOT = ""  # the children index's key for top-level nodes


class UnknownTag(NotFound):
    """No tag has this path."""

    code = "unknown_tag"


class TagExists(Conflict):
    """Paths are unique: a node with this path exists already."""

    code = "tag_exists"


class TagCycle(Conflict):
    """A node cannot move under itself or one of its descendants."""

    code = "tag_cycle"


class TagTooDeep(RuleViolated):
    """A move may not push any node of the subtree below the 8th level."""

    code = "tag_too_deep"


class TagInUse(RuleViolated):
    """Deleting tags that contacts still carry needs ``force``."""

    code = "tag_in_use"


class TooManyTags(RuleViolated):
    """The catalogue holds at most MAX_NODES nodes (it is one aggregate, replayed on every change)."""

    code = "too_many_tags"


class InvalidTagDetails(Invalid):
    """Descriptions are at most 2,000 characters; metadata is a JSON object of at most 16 KiB."""

    code = "invalid_tag_details"


def clean_description(text: str) -> str:
    """The description, or ``InvalidTagDetails``."""
    if len(text) > MAX_DESCRIPTION:
        raise InvalidTagDetails(f"a description has at most {MAX_DESCRIPTION} characters", field="description")
    refuse_nul(text, "description", InvalidTagDetails)
    return text


def clean_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """A copy of the metadata, or ``InvalidTagDetails``."""
    if not isinstance(metadata, dict):
        raise InvalidTagDetails("metadata must be a JSON object", field="metadata")
    try:
        size = len(json.dumps(metadata, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError):
        raise InvalidTagDetails("metadata must hold JSON values only", field="metadata") from None
    if size > MAX_METADATA_BYTES:
        raise InvalidTagDetails(f"metadata is at most {MAX_METADATA_BYTES} bytes as JSON", field="metadata")
    return json.loads(json.dumps(metadata))  # type: ignore[no-any-return]


@dataclass
class TagNode:
    """One node of the tree."""

    id: UUID
    parent_id: UUID | None
    slug: str
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


class TagCatalogue(TidingsAggregate):
    """Every tag node; commands take paths, events record node ids."""

    @classmethod
    def start(cls) -> TagCatalogue:
        """The empty catalogue (its fixed id makes two racing first starts collide)."""
        return cls(id=TAG_CATALOGUE)

    @event("Started")
    def __init__(self, id: UUID) -> None:  # noqa: A002
        # Keyed by the id's text so that the audit log's state view can show it as a JSON object.
        self.nodes: dict[str, TagNode] = {}
        self._children: dict[str, dict[str, str]] = {_ROOT: {}}

    # -- queries ------------------------------------------------------------------------------

    def find(self, path: str) -> TagNode | None:
        """The node at ``path`` (validated), or None."""
        node: TagNode | None = None
        parent = _ROOT
        for slug in parse_path(path):
            node_key = self._children.get(parent, {}).get(slug)
            if node_key is None:
                return None
            node, parent = self.nodes[node_key], node_key
        return node

    def get(self, path: str) -> TagNode:
        """The node at ``path``, or ``UnknownTag``."""
        node = self.find(path)
        if node is None:
            raise UnknownTag(f"no tag {path!r}", path=path)
        return node

    def path_of(self, node_id: UUID) -> str:
        """The current path of a node."""
        return join_path(list(reversed([n.slug for n in self._lineage(node_id)])))

    def depth_of(self, node_id: UUID) -> int:
        """How many levels the node's path has (1 for a top-level node)."""
        return len(self._lineage(node_id))

    def subtree(self, node_id: UUID) -> list[UUID]:
        """The node and its descendants, parents before children."""
        found, i = [node_id], 0
        while i < len(found):
            found.extend(UUID(k) for k in sorted(self._children.get(str(found[i]), {}).values()))
            i += 1
        return found

    def existing(self, paths: Iterable[str]) -> list[UUID]:
        """Ids of those paths that exist (each path validated)."""
        return [node.id for node in map(self.find, paths) if node is not None]

    def _lineage(self, node_id: UUID) -> list[TagNode]:
        chain = [self.nodes[str(node_id)]]
        while chain[-1].parent_id is not None:
            chain.append(self.nodes[str(chain[-1].parent_id)])
        return chain

    def _child(self, parent_id: UUID | None, slug: str) -> TagNode | None:
        key = self._children.get(_key(parent_id), {}).get(slug)
        return None if key is None else self.nodes[key]

    # -- commands -----------------------------------------------------------------------------

    def create(self, path: str, description: str = "", metadata: dict[str, Any] | None = None) -> TagNode:
        """Create the node at ``path`` and any missing ancestors; ``TagExists`` if it is there already."""
        slugs = parse_path(path)
        if self.find(path) is not None:
            raise TagExists(f"tag {path!r} exists already", path=path)
        return self._ensure(slugs, clean_description(description), clean_metadata(metadata or {}))

    def ensure(self, paths: Sequence[str]) -> list[UUID]:
        """The ids of ``paths``, creating missing nodes (and ancestors) with no description."""
        return [self._ensure(parse_path(path)).id for path in paths]

    def _ensure(self, slugs: tuple[str, ...], description: str = "", metadata: dict[str, Any] | None = None) -> TagNode:
        node: TagNode | None = None
        for level, slug in enumerate(slugs, start=1):
            parent_id = node.id if node else None
            child = self._child(parent_id, slug)
            if child is None:
                if len(self.nodes) >= MAX_NODES:
                    raise TooManyTags(f"the catalogue holds at most {MAX_NODES} tags", limit=MAX_NODES)
                # Ancestors created on the way get no details; the leaf gets the caller's.
                leaf = level == len(slugs)
                node_id = uuid4()
                self._created(
                    node_id=node_id,
                    parent_id=parent_id,
                    slug=slug,
                    description=description if leaf else "",
                    metadata=(metadata or {}) if leaf else {},
                )
                child = self.nodes[str(node_id)]
            node = child
        assert node is not None  # parse_path never returns no slugs
        return node

    def edit(
        self,
        path: str,
        *,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        slug: str | None = None,
        parent: str | None = None,
    ) -> TagNode:
        """Change details, slug (rename) and/or parent (move; ``""`` for top level), all or nothing."""
        node = self.get(path)
        # Paths in the request name nodes as they are before it, so the new parent is found first.
        new_parent = None if not parent else self.get(parent)
        if description is not None or metadata is not None:
            self._update(node, description, metadata)
        if slug is not None:
            self._rename(node, check_slug(slug))
        if parent is not None:
            self._move(node, new_parent)
        return node

    def _update(self, node: TagNode, description: str | None, metadata: dict[str, Any] | None) -> None:
        text = node.description if description is None else clean_description(description)
        data = node.metadata if metadata is None else clean_metadata(metadata)
        if (text, data) != (node.description, node.metadata):
            self._updated(node_id=node.id, description=text, metadata=data)

    def _rename(self, node: TagNode, slug: str) -> None:
        if slug == node.slug:
            return
        if self._child(node.parent_id, slug) is not None:
            taken = self.path_of(node.id).rpartition("/")[0]
            raise TagExists(f"tag {join_path([p for p in (taken, slug) if p])!r} exists already", slug=slug)
        self._renamed(node_id=node.id, slug=slug)

    def _move(self, node: TagNode, parent: TagNode | None) -> None:
        parent_id = parent.id if parent else None
        if parent_id == node.parent_id:
            return
        if parent is not None and parent.id in self.subtree(node.id):
            path = self.path_of(node.id)
            raise TagCycle(f"cannot move {path!r} under its own subtree", path=path, parent=self.path_of(parent.id))
        if self._child(parent_id, node.slug) is not None:
            target = join_path([p for p in (self.path_of(parent_id) if parent_id else "", node.slug) if p])
            raise TagExists(f"tag {target!r} exists already", path=target)
        base = self.depth_of(parent_id) if parent_id else 0
        deepest = max(self.depth_of(n) for n in self.subtree(node.id)) - self.depth_of(node.id) + 1
        if base + deepest > MAX_DEPTH:
            raise TagTooDeep(f"the move would make paths {base + deepest} levels deep", max_depth=MAX_DEPTH)
        self._moved(node_id=node.id, parent_id=parent_id)

    def delete(self, path: str, count_tagged: Callable[[list[UUID]], int], force: bool = False) -> list[UUID]:
        """Delete the node and its subtree; refused while contacts carry any of them, unless ``force``."""
        node_ids = self.subtree(self.get(path).id)
        tagged = count_tagged(node_ids)
        if tagged and not force:
            raise TagInUse(f"{tagged} contacts carry {path!r} or a tag under it", path=path, contacts=tagged)
        self._deleted(node_id=node_ids[0], node_ids=node_ids, tagged_contacts=tagged)
        return node_ids

    # -- events -------------------------------------------------------------------------------

    @event("NodeCreated")
    def _created(
        self, node_id: UUID, parent_id: UUID | None, slug: str, description: str, metadata: dict[str, Any]
    ) -> None:
        self.nodes[str(node_id)] = TagNode(node_id, parent_id, slug, description, dict(metadata))
        self._children[_key(parent_id)][slug] = str(node_id)
        self._children[str(node_id)] = {}

    @event("NodeUpdated")
    def _updated(self, node_id: UUID, description: str, metadata: dict[str, Any]) -> None:
        node = self.nodes[str(node_id)]
        node.description, node.metadata = description, dict(metadata)

    @event("NodeRenamed")
    def _renamed(self, node_id: UUID, slug: str) -> None:
        node = self.nodes[str(node_id)]
        siblings = self._children[_key(node.parent_id)]
        del siblings[node.slug]
        siblings[slug] = str(node_id)
        node.slug = slug

    @event("NodeMoved")
    def _moved(self, node_id: UUID, parent_id: UUID | None) -> None:
        node = self.nodes[str(node_id)]
        del self._children[_key(node.parent_id)][node.slug]
        self._children[_key(parent_id)][node.slug] = str(node_id)
        node.parent_id = parent_id

    @event("SubtreeDeleted")
    def _deleted(self, node_id: UUID, node_ids: list[UUID], tagged_contacts: int) -> None:
        del self._children[_key(self.nodes[str(node_id)].parent_id)][self.nodes[str(node_id)].slug]
        for gone in node_ids:
            del self.nodes[str(gone)]
            del self._children[str(gone)]


def _key(node_id: UUID | None) -> str:
    return _ROOT if node_id is None else str(node_id)
