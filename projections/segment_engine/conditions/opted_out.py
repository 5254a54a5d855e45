"""``{"opted_out": true}``: the contact opted out of all marketing email (``false``: has not).

A contact whose preferences never changed has not opted out. Reads ``preferences``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections.segment_engine.sql import Sql, Target, contact_in
from projections.segment_engine.syntax import Node, Parser, child, fail, only_keys

KEY = "opted_out"


@dataclass(frozen=True)
class OptedOut:
    """Globally opted out, or (``wanted`` false) not."""

    wanted: bool

    def sql(self, target: Target) -> Sql:
        opted_out = contact_in(target, "preferences p", "p.contact_id", Sql("p.opted_out = 1"))
        return opted_out if self.wanted else opted_out.wrap("(NOT {})")


def parse(node: dict[str, Any], path: str, parser: Parser) -> Node:
    """An opted_out condition."""
    only_keys(node, path, (KEY,))
    if not isinstance(node[KEY], bool):
        raise fail(child(path, KEY), "true or false")
    return OptedOut(node[KEY])
