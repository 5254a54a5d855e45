"""The condition registry: a definition node's key -> the module that parses and compiles it."""

from __future__ import annotations

from types import ModuleType

from projections.segment_engine.conditions import (
    all_of,
    any_of,
    attribute,
    event,
    negation,
    opted_out,
    segment,
    subscribed,
    suppressed,
    tag,
)

MODULES: tuple[ModuleType, ...] = (
    all_of,
    any_of,
    negation,
    tag,
    attribute,
    event,
    segment,
    subscribed,
    opted_out,
    suppressed,
)


def registry(*extra: ModuleType) -> dict[str, ModuleType]:
    """Condition modules by key; ``extra`` modules add (or, deliberately, replace) keys."""
    return {m.KEY: m for m in (*MODULES, *extra)}


REGISTRY = registry()
