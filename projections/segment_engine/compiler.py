"""From a JSON definition to one parameterized SQL predicate over ``contacts c``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any

from projections.db import Dialect
from projections.segment_engine.conditions import REGISTRY
from projections.segment_engine.sql import Sql, Target
from projections.segment_engine.syntax import Node, Parser, Resolver


@dataclass(frozen=True)
class Definition:
    """A validated definition (saved-segment references expanded), ready to compile for any ``now``."""

    root: Node

    def where(self, dialect: Dialect, now: datetime) -> Sql:
        """The predicate selecting members among ``contacts c`` at ``now``."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return self.root.sql(Target(dialect, now))


def parse(
    definition: Any,
    resolver: Resolver | None = None,
    segment_id: str | None = None,
    registry: Mapping[str, ModuleType] = REGISTRY,
) -> Definition:
    """Validate a definition; raises ``InvalidSegmentDefinition`` with the JSON path of the first problem.

    ``segment_id`` names the saved segment this definition is for (when saving one), so a reference back
    to it through other segments is caught as a cycle before it is saved.
    """
    if isinstance(definition, Definition):
        return definition
    parser = Parser(registry, resolver)
    if segment_id is not None:
        parser.expanding.append(str(segment_id))
    return Definition(parser.parse(definition, "$"))


def validate(definition: Any, resolver: Resolver | None = None, segment_id: str | None = None) -> Any:
    """The definition unchanged when valid, else ``InvalidSegmentDefinition`` (the callable applications get)."""
    parse(definition, resolver, segment_id)
    return definition
