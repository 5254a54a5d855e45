"""Why a segment definition is refused: one error carrying the JSON path of the offending node."""

from __future__ import annotations

from domain.errors import Invalid


class InvalidSegmentDefinition(Invalid):
    """The definition does not follow the segment language; ``details`` hold ``path`` and ``expected``."""

    code = "invalid_segment_definition"
