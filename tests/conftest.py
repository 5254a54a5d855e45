"""Shared fixtures: every integration test runs on SQLite and on PostgreSQL, each test isolated.

PostgreSQL tests get their own schema (dropped afterwards); Redis tests their own key prefix.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from interfaces.bootstrap import Container, build
from interfaces.config import Settings

PG_DSN = "host=127.0.0.1 port=5432 dbname=test"
PG_URL = "postgresql://127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


def new_pg_schema() -> str:
    """A fresh schema name for one test."""
    return f"t_{uuid.uuid4().hex[:12]}"


def drop_pg_schema(schema: str) -> None:
    """Remove a test schema and everything in it."""
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL pointing at a schema of this test's own."""
    schema = new_pg_schema()
    yield f"{PG_URL}?schema={schema}"
    drop_pg_schema(schema)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"tidings-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Which database this run of the test uses."""
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for an isolated store on the chosen backend (SQLite file in tmp_path, or own PG schema)."""
    if backend == "postgres":
        url = request.getfixturevalue("pg_url")
        return Settings(data_dir=tmp_path, database_url=url)
    return Settings(data_dir=tmp_path)


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    """A fully assembled service (no HTTP, no background threads)."""
    c = build(settings)
    yield c
    c.close()


@pytest.fixture
def live(container: Container) -> Iterator[Container]:
    """The container with projections following the store in the background (the delivery worker reads them)."""
    container.runner.start()
    try:
        yield container
    finally:
        container.runner.stop()
