"""A contact's tag set: which tag nodes (by id, not path) the contact carries.

Holding node ids means a rename or move of a subtree is one catalogue event and every contact follows
(the read model resolves ids to paths). Ids of deleted nodes are inert: node ids are never reused.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.events import TidingsAggregate
from domain.ids import TAG_SETS


def tag_set_id(contact_id: UUID) -> UUID:
    """The id of a contact's tag set: deterministic, so tagging needs no lookup."""
    return uuid5(TAG_SETS, str(contact_id))


def _unique(tag_ids: Iterable[UUID]) -> list[UUID]:
    return list(dict.fromkeys(tag_ids))


class TagSet(TidingsAggregate):
    """The tags one contact carries."""

    @classmethod
    def change(
        cls, tag_set: TagSet | None, contact_id: UUID, add: Iterable[UUID], remove: Iterable[UUID]
    ) -> TagSet | None:
        """Apply a tagging to the contact's set, creating it on the first tag; None when nothing exists or changed."""
        add, remove = _unique(add), _unique(remove)
        if tag_set is None:
            wanted = [t for t in add if t not in remove]
            return cls(id=tag_set_id(contact_id), contact_id=contact_id, tag_ids=wanted) if wanted else None
        tag_set.remove(remove)
        tag_set.add([t for t in add if t not in remove])
        return tag_set

    @event("Created")
    def __init__(self, id: UUID, contact_id: UUID, tag_ids: list[UUID]) -> None:  # noqa: A002
        self.contact_id = contact_id
        self.tag_ids: set[UUID] = set(tag_ids)

    def add(self, tag_ids: Iterable[UUID]) -> None:
        """Carry these tags; those already carried record nothing."""
        new = [t for t in _unique(tag_ids) if t not in self.tag_ids]
        if new:
            self._tagged(contact_id=self.contact_id, tag_ids=new)

    def remove(self, tag_ids: Iterable[UUID]) -> None:
        """Stop carrying these tags; those not carried record nothing."""
        gone = [t for t in _unique(tag_ids) if t in self.tag_ids]
        if gone:
            self._untagged(contact_id=self.contact_id, tag_ids=gone)

    # The contact id is repeated on every event so that the read model needs no lookup to place a row.
    @event("Tagged")
    def _tagged(self, contact_id: UUID, tag_ids: list[UUID]) -> None:
        self.tag_ids.update(tag_ids)

    @event("Untagged")
    def _untagged(self, contact_id: UUID, tag_ids: list[UUID]) -> None:
        self.tag_ids.difference_update(tag_ids)
