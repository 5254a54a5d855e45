"""Segment use cases: define, rename, describe, redefine, archive.

The segment language is compiled on the read side; this layer may not import it, so the composition
root hands in ``validate``: it checks a definition (references to other segments included, resolved
through the store, so a cycle is caught even before the read models catch up) and returns it in
canonical form, or raises a ``domain.errors.Invalid``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from application.base import TidingsApplication
from application.store import EventStoreResources
from domain.errors import NotFound
from domain.segment import Segment

Resolve = Callable[[UUID], dict[str, Any] | None]
Validate = Callable[[Any, UUID, Resolve], dict[str, Any]]


class Segments(TidingsApplication):
    """Manage saved segments; every change is a new event, every definition a new revision."""

    def __init__(self, store: EventStoreResources, validate: Validate) -> None:
        super().__init__(store)
        self._validate = validate

    def define(self, name: str, description: str, definition: Any) -> Segment:
        """Save a new segment after validating its definition."""
        segment_id = uuid4()
        segment = Segment.define(
            segment_id, name, description, self._validate(definition, segment_id, self.definition_of)
        )
        self.save(segment)
        return segment

    def get(self, segment_id: UUID) -> Segment:
        """The segment's current state."""
        segment: Segment = self.load(segment_id, Segment)
        return segment

    def update(
        self, segment_id: UUID, name: str | None = None, description: str | None = None, definition: Any = None
    ) -> Segment:
        """Change any of name, description and definition in one atomic save."""
        segment = self.get(segment_id)
        if name is not None:
            segment.rename(name)
        if description is not None:
            segment.describe(description)
        if definition is not None:
            segment.redefine(self._validate(definition, segment_id, self.definition_of))
        self.save(segment)
        return segment

    def archive(self, segment_id: UUID) -> Segment:
        """Retire a segment."""
        segment = self.get(segment_id)
        segment.archive()
        self.save(segment)
        return segment

    def definition_of(self, segment_id: UUID) -> dict[str, Any] | None:
        """A saved segment's current definition, or None when there is no such segment."""
        try:
            return self.get(segment_id).definition
        except NotFound:
            return None
