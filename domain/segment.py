"""A saved segment: a named audience definition whose every revision is kept.

The definition is a JSON document in the segment language (docs/segments.md). Its grammar and meaning
live on the read side, which compiles it; the aggregate only keeps its revisions, and is handed a
definition that was already validated, so a stored revision always compiled when it was saved.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.api_key import clean_name
from domain.errors import Invalid, RuleViolated
from domain.events import TidingsAggregate
from domain.free_text import refuse_nul

MAX_DESCRIPTION = 2000


class SegmentArchived(RuleViolated):
    """An archived segment is kept for history and references; it takes no more changes."""

    code = "segment_archived"


class InvalidDescription(Invalid):
    """Descriptions are plain text of bounded size."""

    code = "invalid_description"


def clean_description(value: str) -> str:
    """A trimmed description, or ``InvalidDescription``."""
    text = value.strip()
    if len(text) > MAX_DESCRIPTION:
        raise InvalidDescription(f"description must be at most {MAX_DESCRIPTION} characters", length=len(text))
    refuse_nul(text, "description", InvalidDescription)
    return text


class Segment(TidingsAggregate):
    """Name, description and the revisions of a segment's definition (revision 1 is the first)."""

    @classmethod
    def define(cls, segment_id: UUID, name: str, description: str, definition: dict[str, Any]) -> Segment:
        """A new segment with its first definition revision."""
        return cls(
            id=segment_id, name=clean_name(name), description=clean_description(description), definition=definition
        )

    @event("Defined")
    def __init__(self, id: UUID, name: str, description: str, definition: dict[str, Any]) -> None:  # noqa: A002
        self.name = name
        self.description = description
        self.definition = definition
        self.revision = 1
        self.archived = False

    def rename(self, name: str) -> None:
        """Give the segment a new name (no event when it is the same)."""
        self._require_active()
        cleaned = clean_name(name)
        if cleaned != self.name:
            self._renamed(cleaned)

    @event("Renamed")
    def _renamed(self, name: str) -> None:
        self.name = name

    def describe(self, description: str) -> None:
        """Replace the description (no event when it is the same)."""
        self._require_active()
        cleaned = clean_description(description)
        if cleaned != self.description:
            self._described(cleaned)

    @event("Described")
    def _described(self, description: str) -> None:
        self.description = description

    def redefine(self, definition: dict[str, Any]) -> None:
        """Save a new revision of the definition (no event when it is the same document)."""
        self._require_active()
        if definition != self.definition:
            self._redefined(definition=definition, revision=self.revision + 1)

    @event("Redefined")
    def _redefined(self, definition: dict[str, Any], revision: int) -> None:
        self.definition = definition
        self.revision = revision

    def archive(self) -> None:
        """Retire the segment; it stays readable, and referencing segments keep their meaning."""
        self._require_active()
        self._archived()

    @event("Archived")
    def _archived(self) -> None:
        self.archived = True

    def _require_active(self) -> None:
        if self.archived:
            raise SegmentArchived("this segment is archived", segment_id=str(self.id))
