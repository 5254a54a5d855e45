"""Two service instances on one PostgreSQL store the same re-delivered event once, even concurrently."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from litestar.testing import TestClient

from interfaces.bootstrap import build
from interfaces.config import Settings
from interfaces.http.app import create_app
from tests.interfaces.client import Api, running
from tests.webhooks.test_route import DELIVERY, connect, events, post

pytestmark = pytest.mark.postgres


def test_concurrent_copies_on_two_instances_are_stored_once(pg_url: str, tmp_path: Path) -> None:
    first, second = build(Settings(data_dir=tmp_path, database_url=pg_url)), None
    try:
        with running(first) as api_one:
            conn = connect(api_one)
            second = build(Settings(data_dir=tmp_path, database_url=pg_url))
            with TestClient(create_app(second, run_projections=True)) as client_two:
                api_two = Api(client_two, second, api_one.admin_id, api_one.admin)
                barrier = threading.Barrier(8)
                records = [{**DELIVERY, "MessageID": f"m-{i}"} for i in range(20)]

                def deliver(api: object, n: int) -> None:
                    barrier.wait()
                    for record in records:
                        assert post(api, conn["webhook_url"], record).status_code == 200  # type: ignore[arg-type]

                threads = [
                    threading.Thread(target=deliver, args=(api, n)) for n in range(4) for api in (api_one, api_two)
                ]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                stored = events(api_two, limit="1000")
        assert sorted(e["provider_message_id"] for e in stored) == sorted(r["MessageID"] for r in records)
    finally:
        first.close()
        if second is not None:
            second.close()
