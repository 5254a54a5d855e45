"""The composition root on PostgreSQL: read models live in the schema the URL names, on every pooled connection."""

from __future__ import annotations

from contextlib import ExitStack
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from interfaces.bootstrap import build
from interfaces.config import Settings
from projections.api_keys import list_keys
from tests.conftest import PG_DSN

pytestmark = pytest.mark.postgres


def test_every_pooled_connection_searches_the_configured_schema(pg_url: str) -> None:
    schema = parse_qs(urlsplit(pg_url).query)["schema"][0]
    container = build(Settings(database_url=pg_url))
    try:
        pool = container.store.datastore.pool
        with ExitStack() as held:
            connections = [held.enter_context(pool.connection()) for _ in range(pool.min_size)]
            schemas = {c.execute("SELECT current_schema() AS s").fetchone()["s"] for c in connections}
    finally:
        container.close()

    assert schemas == {schema}


def test_read_models_are_written_in_the_configured_schema(pg_url: str) -> None:
    schema = parse_qs(urlsplit(pg_url).query)["schema"][0]
    container = build(Settings(database_url=pg_url))
    try:
        issued = container.keys.issue("reporting", "analyst")
        container.runner.catch_up_all()
        assert [k.id for k in list_keys(container.db)] == [issued.key.id]
    finally:
        container.close()

    with psycopg.connect(PG_DSN) as conn:
        rows = conn.execute(f'SELECT id FROM "{schema}".api_keys').fetchall()
    assert rows == [(str(issued.key.id),)]
