"""The tag read model (ADR 0003): ``tags`` (the tree with resolved paths) and ``tags_contacts`` (who carries what).

Tag sets hold node ids, so a rename or move rewrites ``path``/``depth`` of the subtree here and every
contact's tags follow without touching ``tags_contacts``. A tagging with a node that no longer exists (a
delete racing a tagging) is dropped, in log order, so a rebuild arrives at the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.tag_catalogue import TagCatalogue
from domain.tag_set import TagSet
from projections.contacts import TABLE as CONTACTS
from projections.db import Database, Tx
from projections.email_events import stamp
from projections.projection import Projection

TAGS = "tags"
TAGGED = "tags_contacts"
C, S = TagCatalogue, TagSet
_CATALOGUE_EVENTS = ("NodeCreated", "NodeUpdated", "NodeRenamed", "NodeMoved", "SubtreeDeleted")
# Only nodes that still exist are tagged (see the module docstring).
_TAG = f"INSERT INTO {TAGGED} (contact_id, tag_id) SELECT ?, id FROM {TAGS} WHERE id = ? ON CONFLICT DO NOTHING"
_UNTAG = f"DELETE FROM {TAGGED} WHERE contact_id = ? AND tag_id = ?"
# The node and everything under it, without LIKE (whose '_' wildcard would match any character of a slug).
_IN_SUBTREE = "(path = ? OR substr(path, 1, CAST(? AS INTEGER)) = ?)"


def subtree_params(path: str) -> tuple[str, int, str]:
    """Parameters for ``_IN_SUBTREE``: the path, then its length and text with the trailing ``/``."""
    return path, len(path) + 1, f"{path}/"


class TagsProjection(Projection):
    """The tag tree and each contact's tags."""

    name = TAGS
    version = 1
    topics = tuple(get_topic(getattr(C, n)) for n in _CATALOGUE_EVENTS) + tuple(
        get_topic(getattr(S, n)) for n in ("Created", "Tagged", "Untagged")
    )

    def create_statements(self, dialect: str) -> Sequence[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {TAGS} (id TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE, parent_id TEXT, "
            "slug TEXT NOT NULL, description TEXT NOT NULL, metadata TEXT NOT NULL, depth INTEGER NOT NULL, "
            "created_at TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {TAGGED} (contact_id TEXT NOT NULL, tag_id TEXT NOT NULL, "
            "PRIMARY KEY (contact_id, tag_id))",
            f"CREATE INDEX IF NOT EXISTS {TAGGED}_tag ON {TAGGED} (tag_id, contact_id)",
        ]

    def tables(self) -> Sequence[str]:
        return [TAGS, TAGGED]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        # Runs of taggings go in one executemany (bulk tagging writes thousands); anything else flushes the
        # run first, so rows are written in log order.
        run: list[tuple[str, str]] = []
        for e in events:
            if isinstance(e, S.Created | S.Tagged):  # type: ignore[attr-defined]
                run.extend((str(e.contact_id), str(t)) for t in e.tag_ids)
                continue
            tx.executemany(_TAG, run)
            run = []
            if isinstance(e, S.Untagged):  # type: ignore[attr-defined]
                tx.executemany(_UNTAG, [(str(e.contact_id), str(t)) for t in e.tag_ids])
            else:
                _apply_catalogue_event(tx, e)
        tx.executemany(_TAG, run)


def _apply_catalogue_event(tx: Tx, e: Any) -> None:
    if isinstance(e, C.NodeCreated):  # type: ignore[attr-defined]
        parent = _node(tx, e.parent_id)
        path = f"{parent['path']}/{e.slug}" if parent else e.slug
        tx.execute(
            f"INSERT INTO {TAGS} (id, path, parent_id, slug, description, metadata, depth, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (str(e.node_id), path, _text(e.parent_id), e.slug, e.description, _json(e.metadata),
             parent["depth"] + 1 if parent else 1, stamp(e.timestamp)),
        )  # fmt: skip
    elif isinstance(e, C.NodeUpdated):  # type: ignore[attr-defined]
        tx.execute(
            f"UPDATE {TAGS} SET description = ?, metadata = ? WHERE id = ?",
            (e.description, _json(e.metadata), str(e.node_id)),
        )
    elif isinstance(e, C.NodeRenamed):  # type: ignore[attr-defined]
        node = _node(tx, e.node_id)
        assert node is not None
        parent_path = node["path"].rpartition("/")[0]
        _relocate(tx, node, f"{parent_path}/{e.slug}" if parent_path else e.slug, node["depth"])
        tx.execute(f"UPDATE {TAGS} SET slug = ? WHERE id = ?", (e.slug, str(e.node_id)))
    elif isinstance(e, C.NodeMoved):  # type: ignore[attr-defined]
        node, parent = _node(tx, e.node_id), _node(tx, e.parent_id)
        assert node is not None
        path = f"{parent['path']}/{node['slug']}" if parent else node["slug"]
        _relocate(tx, node, path, parent["depth"] + 1 if parent else 1)
        tx.execute(f"UPDATE {TAGS} SET parent_id = ? WHERE id = ?", (_text(e.parent_id), str(e.node_id)))
    elif isinstance(e, C.SubtreeDeleted):  # type: ignore[attr-defined]
        gone = [(str(n),) for n in e.node_ids]
        tx.executemany(f"DELETE FROM {TAGGED} WHERE tag_id = ?", gone)
        tx.executemany(f"DELETE FROM {TAGS} WHERE id = ?", gone)


def _relocate(tx: Tx, node: dict[str, Any], path: str, depth: int) -> None:
    """Give the node a new path and depth, and its whole subtree the same prefix and shift."""
    old = node["path"]
    tx.execute(
        f"UPDATE {TAGS} SET path = ? || substr(path, CAST(? AS INTEGER)), depth = depth + ? WHERE {_IN_SUBTREE}",
        (path, len(old) + 1, depth - node["depth"], *subtree_params(old)),
    )


def _node(tx: Tx, node_id: UUID | None) -> dict[str, Any] | None:
    if node_id is None:
        return None
    return tx.execute(f"SELECT path, slug, depth FROM {TAGS} WHERE id = ?", (str(node_id),)).fetchone()


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# -- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagRow:
    """One tag node with its current path."""

    id: UUID
    path: str
    parent_id: UUID | None
    slug: str
    description: str
    metadata: dict[str, Any]
    depth: int
    created_at: str


@dataclass
class TagTreeNode:
    """A node of the tree with its contact counts: ``count`` includes contacts tagged anywhere below it."""

    tag: TagRow
    count: int
    own_count: int
    children: list[TagTreeNode] = field(default_factory=list)


def _row(r: dict[str, Any]) -> TagRow:
    return TagRow(
        id=UUID(r["id"]),
        path=r["path"],
        parent_id=UUID(r["parent_id"]) if r["parent_id"] else None,
        slug=r["slug"],
        description=r["description"],
        metadata=json.loads(r["metadata"]),
        depth=int(r["depth"]),
        created_at=r["created_at"],
    )


def _tree_order(row: TagRow) -> list[str]:
    # Ordered slug by slug (not by text, where '-' sorts before '/' and collations differ by backend).
    return row.path.split("/")


def list_tags(db: Database) -> list[TagRow]:
    """Every tag, parents before their children, siblings by slug."""
    return sorted((_row(r) for r in db.query(f"SELECT * FROM {TAGS}")), key=_tree_order)


def get_tag(db: Database, path: str) -> TagRow | None:
    """The tag at this path."""
    rows = db.query(f"SELECT * FROM {TAGS} WHERE path = ?", (path,))
    return _row(rows[0]) if rows else None


def contact_tags(db: Database, contact_id: UUID) -> list[str]:
    """The paths of the tags a contact carries, sorted."""
    rows = db.query(
        f"SELECT t.path FROM {TAGGED} c JOIN {TAGS} t ON t.id = c.tag_id WHERE c.contact_id = ?", (str(contact_id),)
    )
    return sorted((r["path"] for r in rows), key=lambda p: p.split("/"))


def count_tagged(db: Database, tag_ids: Sequence[UUID]) -> int:
    """How many distinct contacts carry any of these tags."""
    if not tag_ids:
        return 0
    marks = ", ".join("?" for _ in tag_ids)
    sql = f"SELECT COUNT(DISTINCT contact_id) AS n FROM {TAGGED} WHERE tag_id IN ({marks})"
    return int(db.query(sql, [str(t) for t in tag_ids])[0]["n"])


def missing_contacts(db: Database, contact_ids: Sequence[UUID]) -> list[UUID]:
    """Those of these ids that the contacts read model does not hold, in the order given."""
    found: set[str] = set()
    ids = [str(c) for c in dict.fromkeys(contact_ids)]
    for start in range(0, len(ids), 900):  # below SQLite's oldest limit of 999 parameters
        chunk = ids[start : start + 900]
        marks = ", ".join("?" for _ in chunk)
        found.update(r["id"] for r in db.query(f"SELECT id FROM {CONTACTS} WHERE id IN ({marks})", chunk))
    return [UUID(c) for c in ids if c not in found]


# Every (ancestor, descendant) pair including (node, node): at most nodes x 8 rows.
_COUNTS = f"""
WITH RECURSIVE closure (ancestor, descendant) AS (
    SELECT id, id FROM {TAGS}
    UNION ALL
    SELECT c.ancestor, t.id FROM closure c JOIN {TAGS} t ON t.parent_id = c.descendant
)
SELECT c.ancestor AS id, COUNT(DISTINCT x.contact_id) AS n,
       COUNT(CASE WHEN c.ancestor = c.descendant THEN 1 END) AS own
FROM closure c JOIN {TAGGED} x ON x.tag_id = c.descendant
GROUP BY c.ancestor
"""


def tag_tree(db: Database) -> list[TagTreeNode]:
    """The top-level nodes with their subtrees, each node with its own and its subtree's contact counts."""
    counts = {r["id"]: (int(r["n"]), int(r["own"])) for r in db.query(_COUNTS)}
    nodes = {row.id: TagTreeNode(row, *counts.get(str(row.id), (0, 0))) for row in list_tags(db)}
    roots: list[TagTreeNode] = []
    for node in nodes.values():  # parents come first, so children are appended in order
        siblings = nodes[node.tag.parent_id].children if node.tag.parent_id else roots
        siblings.append(node)
    return roots


def snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of both tables, for comparing a rebuilt read model with a live one."""
    return {
        TAGS: db.query(f"SELECT * FROM {TAGS} ORDER BY id"),
        TAGGED: db.query(f"SELECT * FROM {TAGGED} ORDER BY contact_id, tag_id"),
    }
