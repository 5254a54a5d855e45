"""Tag use cases: manage the catalogue, and tag contacts one at a time or in bulk.

Tagging with a path the catalogue does not have yet creates it in the same atomic save (what users of
Mailchimp-style tools expect: typing a new tag onto a contact makes the tag). Removing a path that does
not exist is a no-op, like removing a tag the contact does not carry: removal is idempotent, so a retried
request or a bulk removal never fails on a tag deleted meanwhile. Paths are still validated either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from application.base import TidingsApplication
from application.bulk_read import select_events
from application.store import EventStoreResources
from domain.errors import Conflict, Invalid
from domain.ids import TAG_CATALOGUE
from domain.tag_catalogue import TagCatalogue, TagNode
from domain.tag_paths import InvalidTagPath, parse_path
from domain.tag_set import TagSet, tag_set_id

MAX_BULK_CONTACTS = 10_000
BULK_BATCH = 500
# Tagging re-reads and re-applies on a version clash: two taggings of one contact, or a tagging that
# creates a node while another does, both succeed. Catalogue edits do not retry: their 409 is the answer.
TAGGING_ATTEMPTS = 4
T = TypeVar("T")


class TagInAddAndRemove(Invalid):
    """One request may not both add and remove the same path."""

    code = "tag_in_add_and_remove"


class TooManyContacts(Invalid):
    """Bulk tagging takes at most MAX_BULK_CONTACTS contacts per call."""

    code = "too_many_contacts"


def checked_paths(add: Sequence[str], remove: Sequence[str]) -> None:
    """Validate both lists up front, naming the list and index of a bad path."""
    for name, paths in (("add", add), ("remove", remove)):
        for index, path in enumerate(paths):
            try:
                parse_path(path)
            except InvalidTagPath as exc:
                raise InvalidTagPath(exc.message, field=name, index=index, **exc.details) from None
    both = sorted(set(add) & set(remove))
    if both:
        raise TagInAddAndRemove("a path is in both add and remove", paths=both)


def _retrying(attempt: Callable[[], T]) -> T:
    for _ in range(TAGGING_ATTEMPTS - 1):
        try:
            return attempt()
        except Conflict as exc:
            if type(exc) is not Conflict:  # a rule's conflict (TagExists...) is an answer, not a race
                raise
    return attempt()


def _chunks(items: Sequence[UUID], size: int) -> Iterator[Sequence[UUID]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Tags(TidingsApplication):
    """The tag catalogue and every contact's tag set."""

    def __init__(self, store: EventStoreResources, count_tagged: Callable[[list[UUID]], int]) -> None:
        super().__init__(store)
        # How many contacts carry any of these tag ids (a read-model question, injected by the composition root).
        self._count_tagged = count_tagged

    def catalogue(self) -> TagCatalogue:
        """The catalogue as stored, or a new empty one (saved with its first node)."""
        try:
            catalogue: TagCatalogue = self.repository.get(TAG_CATALOGUE)
        except AggregateNotFoundError:
            return TagCatalogue.start()
        return catalogue

    def tag_set(self, contact_id: UUID) -> TagSet | None:
        """The contact's tag set, or None before its first tag."""
        try:
            tag_set: TagSet = self.repository.get(tag_set_id(contact_id))
        except AggregateNotFoundError:
            return None
        return tag_set

    def tag_sets(self, contact_ids: Sequence[UUID]) -> dict[UUID, TagSet]:
        """The existing tag sets of these contacts, by contact id: one query per 900, not one per contact."""
        rebuilt: dict[UUID, Any] = {}
        for stored in select_events(self.recorder, [tag_set_id(c) for c in contact_ids]):
            event: Any = self.mapper.to_domain_event(stored)
            rebuilt[event.originator_id] = event.mutate(rebuilt.get(event.originator_id))
        return {s.contact_id: s for s in rebuilt.values() if isinstance(s, TagSet)}

    def create(self, path: str, description: str = "", metadata: dict[str, Any] | None = None) -> TagNode:
        """Create a tag (and its missing ancestors)."""
        catalogue = self.catalogue()
        node = catalogue.create(path, description, metadata)
        self.save(catalogue)
        return node

    def edit(self, path: str, **changes: Any) -> str:
        """Change description/metadata, rename (slug) and/or move (parent) in one save; the new path."""
        catalogue = self.catalogue()
        node = catalogue.edit(path, **changes)
        self.save(catalogue)
        return catalogue.path_of(node.id)

    def delete(self, path: str, force: bool = False) -> list[UUID]:
        """Delete a tag and its subtree (``force`` when contacts still carry them); the deleted ids."""
        catalogue = self.catalogue()
        deleted = catalogue.delete(path, self._count_tagged, force)
        self.save(catalogue)
        return deleted

    def tag(self, contact_id: UUID, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
        """Add and remove tags on one contact; new paths in ``add`` are created in the same save."""
        checked_paths(add, remove)
        _retrying(lambda: self._tag_batch([contact_id], add, remove))

    def tag_many(self, contact_ids: Sequence[UUID], add: Sequence[str] = (), remove: Sequence[str] = ()) -> int:
        """Tag many contacts in atomic batches of BULK_BATCH; how many tag sets changed."""
        if len(contact_ids) > MAX_BULK_CONTACTS:
            raise TooManyContacts(f"at most {MAX_BULK_CONTACTS} contacts per call", count=len(contact_ids))
        checked_paths(add, remove)
        unique = list(dict.fromkeys(contact_ids))
        return sum(_retrying(partial(self._tag_batch, chunk, add, remove)) for chunk in _chunks(unique, BULK_BATCH))

    def _tag_batch(self, contact_ids: Sequence[UUID], add: Sequence[str], remove: Sequence[str]) -> int:
        catalogue = self.catalogue()
        add_ids, remove_ids = catalogue.ensure(add), catalogue.existing(remove)
        existing = self.tag_sets(contact_ids)
        changed = [TagSet.change(existing.get(c), c, add_ids, remove_ids) for c in contact_ids]
        sets = [s for s in changed if s is not None and s.pending_events]
        # A catalogue that did not exist yet is saved only when this tagging created nodes in it.
        self.save(*([catalogue] if add_ids else []), *sets)
        return len(sets)
