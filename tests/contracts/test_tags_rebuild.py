"""The tags read model kept up incrementally equals the aggregates' own view, and the same model rebuilt from zero.

Random catalogue edits and taggings with catch-ups, single-event steps and rebuilds at random points, on
SQLite and on PostgreSQL; each example gets a fresh database.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.errors import DomainError
from interfaces.bootstrap import build
from interfaces.config import Settings
from projections.runner import ProjectionRunner
from projections.tags import TAGS, TagsProjection, contact_tags, list_tags, snapshot
from tests.conftest import PG_URL, drop_pg_schema, new_pg_schema

paths = st.lists(st.sampled_from(["a", "b", "c_d", "e"]), min_size=1, max_size=3).map("/".join)
path_lists = st.lists(paths, max_size=3)


class TagsRebuild(RuleBasedStateMachine):
    """Drives the tags read model through random histories on one backend."""

    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self._dir = Path(tempfile.mkdtemp(prefix="tidings-tags-"))
        self._schema: str | None = None
        url = ""
        if self.backend == "postgres":
            self._schema = new_pg_schema()
            url = f"{PG_URL}?schema={self._schema}"
        self.c = build(Settings(data_dir=self._dir, database_url=url))
        self.partial = ProjectionRunner(self.c.store, self.c.keys.mapper, self.c.db, [TagsProjection()], 1)
        self.contacts: list[UUID] = []

    @initialize(count=st.integers(min_value=1, max_value=4))
    def some_contacts(self, count: int) -> None:
        self.contacts = [uuid4() for _ in range(count)]

    def _attempt(self, command: object) -> None:
        # Refusals (a move into a cycle, a duplicate path...) are part of a random history, not failures.
        with contextlib.suppress(DomainError):
            command()  # type: ignore[operator]

    @rule(data=st.data(), add=st.lists(paths, min_size=1, max_size=3), remove=path_lists)
    def tag(self, data: st.DataObject, add: list[str], remove: list[str]) -> None:
        contact = data.draw(st.sampled_from(self.contacts))
        self._attempt(lambda: self.c.tags.tag(contact, add=add, remove=remove))

    @rule(add=st.lists(paths, min_size=1, max_size=3), remove=path_lists)
    def tag_everyone(self, add: list[str], remove: list[str]) -> None:
        self._attempt(lambda: self.c.tags.tag_many(self.contacts, add=add, remove=remove))

    @rule(path=paths, slug=st.sampled_from(["a", "f", "c_d"]))
    def rename(self, path: str, slug: str) -> None:
        self._attempt(lambda: self.c.tags.edit(path, slug=slug))

    @rule(path=paths, parent=st.one_of(st.just(""), paths))
    def move(self, path: str, parent: str) -> None:
        self._attempt(lambda: self.c.tags.edit(path, parent=parent))

    @rule(path=paths, description=st.text(max_size=5), key=st.sampled_from(["k", "z"]))
    def describe(self, path: str, description: str, key: str) -> None:
        self._attempt(lambda: self.c.tags.edit(path, description=description, metadata={key: description}))

    @rule(path=paths)
    def delete(self, path: str) -> None:
        self.c.runner.catch_up(TAGS)  # the in-use check reads the read model
        self._attempt(lambda: self.c.tags.delete(path, force=True))

    @rule()
    def catch_up(self) -> None:
        self.c.runner.catch_up(TAGS)

    @rule()
    def step_one_event(self) -> None:
        self.partial.step(TAGS)

    @rule()
    def rebuild(self) -> None:
        self.c.runner.rebuild(TAGS)

    @invariant()
    def caught_up_rows_match_the_aggregates(self) -> None:
        if self.c.runner.position(TAGS) < self.c.store.head():
            return
        catalogue = self.c.tags.catalogue()
        expected = {
            catalogue.path_of(n.id): (n.id, n.parent_id, n.slug, n.description, n.metadata, catalogue.depth_of(n.id))
            for n in catalogue.nodes.values()
        }
        rows = {r.path: (r.id, r.parent_id, r.slug, r.description, r.metadata, r.depth) for r in list_tags(self.c.db)}
        assert rows == expected
        for contact in self.contacts:
            tag_set = self.c.tags.tag_set(contact)
            carried = {catalogue.path_of(t) for t in tag_set.tag_ids if str(t) in catalogue.nodes} if tag_set else set()
            assert set(contact_tags(self.c.db, contact)) == carried

    def teardown(self) -> None:
        try:
            self.c.runner.catch_up(TAGS)
            incremental = snapshot(self.c.db)
            self.c.runner.rebuild(TAGS)
            assert snapshot(self.c.db) == incremental
        finally:
            self.c.close()
            if self._schema:
                drop_pg_schema(self._schema)
            shutil.rmtree(self._dir, ignore_errors=True)


class PostgresTagsRebuild(TagsRebuild):
    """The same contract with the store and read model in a PostgreSQL schema of the example's own."""

    backend = "postgres"


contract_settings = settings(
    max_examples=20, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TagsRebuild.TestCase.settings = contract_settings
PostgresTagsRebuild.TestCase.settings = contract_settings

TestTagsRebuiltEqualsIncrementalOnSqlite = TagsRebuild.TestCase
TestTagsRebuiltEqualsIncrementalOnPostgres = pytest.mark.postgres(PostgresTagsRebuild.TestCase)
