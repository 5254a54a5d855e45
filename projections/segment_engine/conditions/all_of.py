"""``{"and": [...]}``: every listed condition holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections.segment_engine.sql import Sql, Target, joined
from projections.segment_engine.syntax import Node, Parser, parse_list

KEY = "and"


@dataclass(frozen=True)
class AllOf:
    """A conjunction."""

    parts: tuple[Node, ...]

    def sql(self, target: Target) -> Sql:
        return joined("AND", (p.sql(target) for p in self.parts))


def parse(node: dict[str, Any], path: str, parser: Parser) -> Node:
    """A conjunction of the listed conditions."""
    parts = parse_list(node, KEY, path, parser)
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))
