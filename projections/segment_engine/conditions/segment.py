"""``{"segment": ID}``: membership of another saved segment, by expanding its current definition in place.

The engine is handed a resolver (segment id -> definition, or None when unknown). A reference back to a
segment that is being expanded is a cycle and is refused, as is an unknown id; the depth and size guards
count the expanded nodes too, so references cannot blow a definition up.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.segment_definition_errors import InvalidSegmentDefinition
from projections.segment_engine.syntax import Node, Parser, child, fail, only_keys

KEY = "segment"


def parse(node: dict[str, Any], path: str, parser: Parser) -> Node:
    """The referenced segment's condition."""
    only_keys(node, path, (KEY,))
    where = child(path, KEY)
    segment_id = _uuid(node[KEY])
    if segment_id is None:
        raise fail(where, "a saved segment id (a UUID)")
    if segment_id in parser.expanding:
        chain = " -> ".join([*parser.expanding, segment_id])
        raise fail(where, "a segment that does not refer back to itself", f"{where}: segment cycle {chain}")
    definition = parser.resolve(segment_id)
    if definition is None:
        raise fail(where, "the id of a saved segment", f"{where}: no saved segment {segment_id}")
    parser.expanding.append(segment_id)
    try:
        return parser.parse(definition, "$")
    except InvalidSegmentDefinition as exc:
        inner = exc.details.get("path")
        message = f"{where}: saved segment {segment_id} is invalid at {inner}: {exc.message}"
        raise InvalidSegmentDefinition(
            message, path=where, expected=exc.details.get("expected"), segment=segment_id, segment_path=inner
        ) from None
    finally:
        parser.expanding.pop()


def _uuid(value: Any) -> str | None:
    """The id in canonical form, so the resolver and the cycle check see one spelling."""
    if not isinstance(value, str) or len(value) > 45:
        return None
    try:
        return str(UUID(value))
    except ValueError:
        return None
