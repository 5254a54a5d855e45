"""The headline contract: a read model kept up incrementally equals the same one rebuilt from zero.

Random command sequences (issue, rename, revoke, under random actors) with catch-ups, partial steps and
rebuilds at random points, on SQLite and on PostgreSQL; each example gets a fresh database.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from domain.api_key import MAX_NAME, Role
from domain.errors import ApiKeyAlreadyRevoked
from domain.events import caused_by
from interfaces.bootstrap import build
from interfaces.config import Settings
from projections.api_keys import ApiKeysProjection, get_key, snapshot
from projections.runner import ProjectionRunner
from tests.conftest import PG_URL, drop_pg_schema, new_pg_schema

VIEW = ApiKeysProjection.name

printable = st.characters(categories=["L", "M", "N", "P", "S"], include_characters=" ")
names = st.text(printable, min_size=1, max_size=MAX_NAME).filter(str.strip)
roles = st.sampled_from([r.value for r in Role])
actors = st.sampled_from(["system", "cli:ops", "api_key:1", "contact:ü"])


class ProjectionRebuild(RuleBasedStateMachine):
    """Drives the API key read model through random histories on one backend."""

    backend = "sqlite"
    keys = Bundle("keys")

    def __init__(self) -> None:
        super().__init__()
        self._dir = Path(tempfile.mkdtemp(prefix="tidings-contract-"))
        self._schema: str | None = None
        url = ""
        if self.backend == "postgres":
            self._schema = new_pg_schema()
            url = f"{PG_URL}?schema={self._schema}"
        self.c = build(Settings(data_dir=self._dir, database_url=url))
        self.partial = ProjectionRunner(self.c.store, self.c.keys.mapper, self.c.db, [ApiKeysProjection()], 1)
        self.model: dict[UUID, dict[str, Any]] = {}

    @rule(target=keys, name=names, role=roles, actor=actors)
    def issue(self, name: str, role: str, actor: str) -> UUID:
        with caused_by(actor):
            key_id = self.c.keys.issue(name, role).key.id
        self.model[key_id] = {"name": name.strip(), "role": role, "revoked": False, "created_by": actor}
        return key_id

    @rule(key_id=keys, name=names, actor=actors)
    def rename(self, key_id: UUID, name: str, actor: str) -> None:
        with caused_by(actor):
            self.c.keys.rename(key_id, name)
        self.model[key_id]["name"] = name.strip()

    @rule(key_id=keys)
    def revoke(self, key_id: UUID) -> None:
        if self.model[key_id]["revoked"]:
            with pytest.raises(ApiKeyAlreadyRevoked):
                self.c.keys.revoke(key_id)
        else:
            self.c.keys.revoke(key_id)
            self.model[key_id]["revoked"] = True

    @rule()
    def catch_up(self) -> None:
        self.c.runner.catch_up(VIEW)
        assert self.c.runner.position(VIEW) == self.c.store.head()

    @rule()
    def step_one_event(self) -> None:
        self.partial.step(VIEW)

    @rule()
    def rebuild(self) -> None:
        self.c.runner.rebuild(VIEW)

    @invariant()
    def caught_up_rows_match_the_commands(self) -> None:
        if self.c.runner.position(VIEW) < self.c.store.head():
            return
        for key_id, expected in self.model.items():
            row = get_key(self.c.db, key_id)
            assert row is not None
            actual = {"name": row.name, "role": row.role, "revoked": not row.active, "created_by": row.created_by}
            assert actual == expected

    def teardown(self) -> None:
        try:
            self.c.runner.catch_up(VIEW)
            incremental = snapshot(self.c.db)
            self.c.runner.rebuild(VIEW)
            assert snapshot(self.c.db) == incremental
            assert len(incremental) == len(self.model)
        finally:
            self.c.close()
            if self._schema:
                drop_pg_schema(self._schema)
            shutil.rmtree(self._dir, ignore_errors=True)


class PostgresProjectionRebuild(ProjectionRebuild):
    """The same contract with the event store and read model in a PostgreSQL schema of the example's own."""

    backend = "postgres"


contract_settings = settings(
    max_examples=15, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
ProjectionRebuild.TestCase.settings = contract_settings
PostgresProjectionRebuild.TestCase.settings = contract_settings

TestRebuiltEqualsIncrementalOnSqlite = ProjectionRebuild.TestCase
TestRebuiltEqualsIncrementalOnPostgres = pytest.mark.postgres(PostgresProjectionRebuild.TestCase)
