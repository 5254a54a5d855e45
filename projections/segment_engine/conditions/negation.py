"""``{"not": {...}}``: the complement within all contacts.

Every compiled predicate is TRUE or FALSE, never NULL, so ``NOT`` really is the complement: a contact
with no events at all is in ``{"not": {"event": "opened", "within_days": 90}}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections.segment_engine.sql import Sql, Target
from projections.segment_engine.syntax import Node, Parser, child, only_keys

KEY = "not"


@dataclass(frozen=True)
class Not:
    """A complement."""

    part: Node

    def sql(self, target: Target) -> Sql:
        return self.part.sql(target).wrap("(NOT {})")


def parse(node: dict[str, Any], path: str, parser: Parser) -> Node:
    """The complement of the nested condition."""
    only_keys(node, path, (KEY,))
    return Not(parser.parse(node[KEY], child(path, KEY)))
