"""Any sequence of catalogue commands: paths stay unique, the tree acyclic, replay rebuilds the live catalogue.

A plain model (path -> node id) predicts every outcome, so each refusal is checked to be the right one.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain.errors import DomainError
from domain.tag_catalogue import TagCatalogue, TagCycle, TagExists, TagInUse, TagTooDeep, UnknownTag
from domain.tag_paths import MAX_DEPTH
from tests.domain.scenarios import replay, state

# A small alphabet so that commands often collide with existing paths.
slugs = st.sampled_from(["a", "b", "c", "sport", "x-1"])
new_paths = st.lists(slugs, min_size=1, max_size=4).map("/".join)


class CatalogueLifecycle(RuleBasedStateMachine):
    """Random create, rename, move and delete commands against a path -> id model."""

    def __init__(self) -> None:
        super().__init__()
        self.catalogue = TagCatalogue.start()
        self.recorded: list[Any] = list(self.catalogue.collect_events())
        self.model: dict[str, UUID] = {}  # path -> node id
        self.tagged: set[UUID] = set()  # nodes some contact carries (what the read model would say)

    def _collect(self) -> list[Any]:
        new = list(self.catalogue.collect_events())
        self.recorded.extend(new)
        return new

    def _subtree(self, path: str) -> dict[str, UUID]:
        return {p: i for p, i in self.model.items() if p == path or p.startswith(f"{path}/")}

    def _refused(self, error: type[DomainError], command: Any) -> None:
        with pytest.raises(error):
            command()
        assert self._collect() == []

    @rule(path=new_paths)
    def create(self, path: str) -> None:
        if path in self.model:
            self._refused(TagExists, lambda: self.catalogue.create(path))
            return
        self.catalogue.create(path)
        missing = [p for p in _prefixes(path) if p not in self.model]
        events = self._collect()
        assert [e.slug for e in events] == [p.rpartition("/")[2] for p in missing]
        self.model.update({p: e.node_id for p, e in zip(missing, events, strict=True)})

    @precondition(lambda self: self.model)
    @rule(data=st.data(), slug=slugs)
    def rename(self, data: st.DataObject, slug: str) -> None:
        path = data.draw(st.sampled_from(sorted(self.model)))
        parent, _, old = path.rpartition("/")
        target = f"{parent}/{slug}" if parent else slug
        if slug != old and target in self.model:
            self._refused(TagExists, lambda: self.catalogue.edit(path, slug=slug))
            return
        self.catalogue.edit(path, slug=slug)
        self._collect()
        self._relocate(path, target)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def move(self, data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(sorted(self.model)))
        parent = data.draw(st.sampled_from(["", "nowhere", *sorted(self.model)]))
        target = f"{parent}/{path.rpartition('/')[2]}" if parent else path.rpartition("/")[2]
        height = max(p.count("/") for p in self._subtree(path)) - path.count("/") + 1
        expected: type[DomainError] | None = None
        if parent and parent not in self.model:
            expected = UnknownTag
        elif target == path:
            expected = None
        elif parent in self._subtree(path):
            expected = TagCycle
        elif target in self.model:
            expected = TagExists
        elif (parent.count("/") + 1 if parent else 0) + height > MAX_DEPTH:
            expected = TagTooDeep
        if expected is not None:
            self._refused(expected, lambda: self.catalogue.edit(path, parent=parent))
            return
        self.catalogue.edit(path, parent=parent)
        self._collect()
        self._relocate(path, target)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def tag_some_node(self, data: st.DataObject) -> None:
        self.tagged.add(self.model[data.draw(st.sampled_from(sorted(self.model)))])

    @precondition(lambda self: self.model)
    @rule(data=st.data(), force=st.booleans())
    def delete(self, data: st.DataObject, force: bool) -> None:
        path = data.draw(st.sampled_from(sorted(self.model)))
        doomed = self._subtree(path)
        in_use = len(self.tagged & set(doomed.values()))
        if in_use and not force:
            self._refused(TagInUse, lambda: self.catalogue.delete(path, lambda ids: len(self.tagged & set(ids))))
            return
        deleted = self.catalogue.delete(path, lambda ids: len(self.tagged & set(ids)), force)
        assert set(deleted) == set(doomed.values())
        assert [e.tagged_contacts for e in self._collect()] == [in_use]
        for p in doomed:
            del self.model[p]

    def _relocate(self, old: str, new: str) -> None:
        if old == new:
            return
        moved = self._subtree(old)
        for p in moved:
            del self.model[p]
        self.model.update({new + p[len(old) :]: i for p, i in moved.items()})

    @invariant()
    def every_path_resolves_to_its_node_and_back(self) -> None:
        nodes = self.catalogue.nodes
        assert {self.catalogue.path_of(UUID(k)): UUID(k) for k in nodes} == self.model
        assert len(nodes) == len(self.model)  # so paths are unique
        for path, node_id in self.model.items():
            assert self.catalogue.get(path).id == node_id

    @invariant()
    def the_tree_is_acyclic_and_shallow(self) -> None:
        for node in self.catalogue.nodes.values():
            seen = {node.id}
            parent = node.parent_id
            while parent is not None:
                assert parent not in seen
                seen.add(parent)
                parent = self.catalogue.nodes[str(parent)].parent_id
            assert len(seen) <= MAX_DEPTH

    @invariant()
    def replaying_the_recorded_events_rebuilds_the_live_catalogue(self) -> None:
        assert state(replay(self.recorded)) == state(self.catalogue)
        assert self.catalogue.version == len(self.recorded)


def _prefixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


CatalogueLifecycle.TestCase.settings = settings(max_examples=80, stateful_step_count=30, deadline=None)
TestCatalogueLifecycle = CatalogueLifecycle.TestCase
