"""``{"suppressed": true}``: the contact's address is on the suppression list (``false``: is not).

Suppressions are kept per address; their rows carry the contact id the address derives, so an address
suppressed before it became a contact counts from the contact's first moment. Reads ``suppressions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections.segment_engine.sql import TRUE, Sql, Target, contact_in
from projections.segment_engine.syntax import Node, Parser, child, fail, only_keys

KEY = "suppressed"


@dataclass(frozen=True)
class Suppressed:
    """On the suppression list, or (``wanted`` false) not."""

    wanted: bool

    def sql(self, target: Target) -> Sql:
        suppressed = contact_in(target, "suppressions s", "s.contact_id", TRUE)
        return suppressed if self.wanted else suppressed.wrap("(NOT {})")


def parse(node: dict[str, Any], path: str, parser: Parser) -> Node:
    """A suppressed condition."""
    only_keys(node, path, (KEY,))
    if not isinstance(node[KEY], bool):
        raise fail(child(path, KEY), "true or false")
    return Suppressed(node[KEY])
