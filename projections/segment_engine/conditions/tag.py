"""``{"tag": "interests/sports", "exact": false}``: has the tag, or (unless exact) any tag below it.

A path that is not in the catalogue matches nobody: a saved segment stays valid when a tag goes away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from projections.segment_engine.sql import Sql, Target, contact_in
from projections.segment_engine.syntax import Node, Parser, child, fail, only_keys

KEY = "tag"
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_LEVELS = 8
EXPECTED = f"a tag path: 1 to {MAX_LEVELS} lower-case slugs ([a-z0-9][a-z0-9_-]*, at most 64 characters) joined by /"


@dataclass(frozen=True)
class Tag:
    """Membership of a tag node or its subtree."""

    path: str
    exact: bool

    def sql(self, target: Target) -> Sql:
        if self.exact:
            where = Sql("t.path = ?", (self.path,))
        else:
            # substr, not LIKE: slugs may hold "_", a LIKE wildcard. Tags are few; no index needed.
            prefix = f"{self.path}/"
            where = Sql("(t.path = ? OR substr(t.path, 1, ?) = ?)", (self.path, len(prefix), prefix))
        return contact_in(target, "tags_contacts tc JOIN tags t ON t.id = tc.tag_id", "tc.contact_id", where)


def parse(node: dict[str, Any], path: str, parser: Parser) -> Node:
    """A tag condition."""
    only_keys(node, path, (KEY, "exact"))
    value, exact = node[KEY], node.get("exact", False)
    if not isinstance(value, str) or not valid_path(value):
        raise fail(child(path, KEY), EXPECTED)
    if not isinstance(exact, bool):
        raise fail(child(path, "exact"), "true or false")
    return Tag(value, exact)


def valid_path(value: str) -> bool:
    """Whether ``value`` is a well-formed tag path."""
    slugs = value.split("/")
    return len(slugs) <= MAX_LEVELS and all(SLUG.fullmatch(s) for s in slugs)
