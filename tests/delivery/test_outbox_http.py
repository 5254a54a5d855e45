"""The capture outbox over HTTP, filled by the real worker (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.delivery_run import message_id, run_id
from interfaces.bootstrap import Container
from interfaces.delivery.worker import DeliveryWorker
from tests.delivery.scenario import Scenario, every_contact, scheduled_campaign
from tests.interfaces.client import Api, bearer, error_of, running

EMAILS = [f"member{i}@example.org" for i in range(5)]
SUMMARY = {"message_id", "campaign_id", "contact_id", "to", "from", "subject", "attempts", "captured_at"}


@pytest.fixture
def api(container: Container) -> Iterator[Api]:
    """The app with projections running in-process (the worker reads the read models)."""
    with running(container) as api:
        yield api


@pytest.fixture
def sent(api: Api) -> Scenario:
    """A campaign delivered into the outbox."""
    at = datetime.now(UTC) - timedelta(seconds=1)
    scenario = scheduled_campaign(api.container, EMAILS, at)
    asyncio.run(DeliveryWorker(api.container, every_contact).drain())  # type: ignore[arg-type]
    return scenario


def _get(api: Api, path: str, **params: Any) -> Any:
    response = api.client.get(f"/api/v1/outbox{path}", params=params, headers=api.admin)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_empty_outbox_lists_nothing_before_any_worker_ran(api: Api) -> None:
    assert _get(api, "") == {"items": [], "next_cursor": None}


def test_the_outbox_lists_every_message_of_the_campaign(api: Api, sent: Scenario) -> None:
    page = _get(api, "", campaign_id=str(sent.campaign_id))

    assert page["next_cursor"] is None
    assert sorted(i["to"] for i in page["items"]) == sorted(EMAILS)
    assert all(set(i) == SUMMARY for i in page["items"])
    ids = [i["message_id"] for i in page["items"]]
    assert ids == sorted(ids)
    run = run_id(sent.campaign_id, api.container.campaigns.get(sent.campaign_id).scheduled_at)  # type: ignore[arg-type]
    first = next(i for i in page["items"] if i["to"] == EMAILS[0])
    assert first["message_id"] == str(message_id(run, sent.contacts[EMAILS[0]]))
    assert first["contact_id"] == str(sent.contacts[EMAILS[0]])
    assert first["from"] == "News <news@example.com>" and first["subject"] == "Hi N0" and first["attempts"] == 1
    assert _get(api, "", campaign_id=str(uuid4())) == {"items": [], "next_cursor": None}


def test_pages_follow_the_cursor_to_the_end(api: Api, sent: Scenario) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        page = _get(api, "", limit=2, **({"cursor": cursor} if cursor else {}))
        pages += 1
        assert len(page["items"]) <= 2
        seen += [i["message_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5 and seen == sorted(seen)


def test_one_message_has_its_bodies_and_headers(api: Api, sent: Scenario) -> None:
    [item] = _get(api, "", limit=1)["items"]
    message = _get(api, f"/{item['message_id']}")

    assert {k: message[k] for k in SUMMARY} == item
    assert message["run_id"] is not None
    assert "Hello" in message["html"] and "Hello" in message["text"]
    assert message["headers"]["X-Tidings-Message-Id"] == item["message_id"]
    assert message["headers"]["List-Unsubscribe"].startswith("<http")


def test_an_absent_message_is_404(api: Api) -> None:
    error_of(api.client.get(f"/api/v1/outbox/{uuid4()}", headers=api.admin), 404, "not_found")


@pytest.mark.parametrize(
    ("params", "field"),
    [({"cursor": "not-a-cursor"}, "cursor"), ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"),
     ({"limit": "many"}, "limit"), ({"campaign_id": "nope"}, "campaign_id")],
)  # fmt: skip
def test_a_bad_cursor_or_limit_is_400_naming_it(api: Api, params: dict[str, str], field: str) -> None:
    details = error_of(api.client.get("/api/v1/outbox", params=params, headers=api.admin), 400, "bad_request")
    assert field in {f["key"] for f in details["fields"]}


def test_only_editors_and_admins_read_the_outbox(api: Api, sent: Scenario) -> None:
    [item] = _get(api, "", limit=1)["items"]
    for role, status in [("analyst", 403), ("approver", 403), ("editor", 200)]:
        _, key = api.issue(role, name=role)
        for path in ("/api/v1/outbox", f"/api/v1/outbox/{item['message_id']}"):
            response = api.client.get(path, headers=bearer(key))
            assert response.status_code == status, (role, path, response.text)
            if status == 403:
                error_of(response, 403, "forbidden")
    error_of(api.client.get("/api/v1/outbox"), 401, "unauthorized")
