"""When the database cannot be reached, commands and queries answer 503 with Retry-After, not 500."""

from __future__ import annotations

from pathlib import Path

import pytest

from interfaces.bootstrap import build
from interfaces.config import Settings
from tests.interfaces.client import running


@pytest.mark.postgres
def test_a_lost_database_answers_503(pg_url: str, tmp_path: Path) -> None:
    container = build(Settings(data_dir=tmp_path, database_url=pg_url))
    try:
        with running(container) as api:
            container.store.datastore.pool.close()
            response = api.client.get("/api/v1/keys", headers=api.admin)
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "unavailable"
            assert response.headers["retry-after"] == "5"
            assert api.client.get("/readyz").status_code == 503
    finally:
        container.close()
