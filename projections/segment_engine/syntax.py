"""Walking a definition: JSON paths, the depth and size guards, and dispatch to the condition registry."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.segment_definition_errors import InvalidSegmentDefinition
from projections.segment_engine.sql import Sql, Target

MAX_DEPTH = 32
MAX_NODES = 500
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Looks up a saved segment's definition by id; None when there is no such segment.
Resolver = Callable[[str], Any]


class Node(Protocol):
    """A parsed condition: compiles to a predicate over one ``contacts`` row that is never NULL."""

    def sql(self, target: Target) -> Sql: ...


class Condition(Protocol):
    """A condition module: its key in a definition and how it parses a node carrying that key."""

    KEY: str

    def parse(self, node: dict[str, Any], path: str, parser: Parser) -> Node: ...


def child(path: str, key: str | int) -> str:
    """The JSON path of a member (``$.and[2].op``)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if _IDENTIFIER.fullmatch(key) else f'{path}["{key[:50]}"]'


def fail(path: str, expected: str, message: str | None = None) -> InvalidSegmentDefinition:
    """The error for the node at ``path``, saying what was expected there."""
    return InvalidSegmentDefinition(message or f"{path}: expected {expected}", path=path, expected=expected)


@dataclass
class Parser:
    """One parse of one definition: counts nodes, tracks depth and the saved segments being expanded."""

    registry: Mapping[str, Condition]
    resolver: Resolver | None = None
    nodes: int = 0
    depth: int = 0
    expanding: list[str] = field(default_factory=list)

    def parse(self, node: Any, path: str) -> Node:
        """The parsed condition at ``path``."""
        if not isinstance(node, dict):
            raise fail(path, f"an object with one of the keys {self.keys()}")
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise fail(path, f"at most {MAX_NODES} conditions in one definition")
        if self.depth >= MAX_DEPTH:
            raise fail(path, f"conditions nested at most {MAX_DEPTH} deep")
        present = [k for k in node if k in self.registry]
        if len(present) != 1:
            found = f"found {sorted(present)}" if present else "found none"
            raise fail(path, f"exactly one of the keys {self.keys()}", f"{path}: expected one condition key, {found}")
        self.depth += 1
        try:
            return self.registry[present[0]].parse(node, path, self)
        finally:
            self.depth -= 1

    def keys(self) -> str:
        """The condition keys, for messages."""
        return ", ".join(sorted(self.registry))

    def resolve(self, segment_id: str) -> Any:
        """A saved segment's definition, or None when unknown (or when no resolver was given)."""
        return None if self.resolver is None else self.resolver(segment_id)


def only_keys(node: dict[str, Any], path: str, allowed: tuple[str, ...]) -> None:
    """Refuse members a condition does not know (a typo would otherwise change the meaning silently)."""
    for key in node:
        if key not in allowed:
            raise fail(child(path, key), f"no such member; {node_name(allowed)} takes {', '.join(allowed)}")


def node_name(allowed: tuple[str, ...]) -> str:
    """How messages name a condition: by its key."""
    return f'"{allowed[0]}"'


def parse_list(node: dict[str, Any], key: str, path: str, parser: Parser) -> list[Node]:
    """The parsed members of an ``and``/``or`` list."""
    only_keys(node, path, (key,))
    items, where = node[key], child(path, key)
    if not isinstance(items, list) or not items:
        raise fail(where, "a non-empty list of conditions")
    return [parser.parse(item, child(where, i)) for i, item in enumerate(items)]
