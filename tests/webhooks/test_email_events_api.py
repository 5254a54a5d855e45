"""GET /api/v1/email-events: filters, cursor pagination, one event by id."""

from __future__ import annotations

import uuid

from tests.interfaces.client import Api
from tests.webhooks.test_route import DELIVERY, connect, events, post


def _record(i: int, record_type: str = "Delivery", recipient: str | None = None) -> dict[str, object]:
    base = {**DELIVERY, "RecordType": record_type, "MessageID": f"m-{i}", "Recipient": recipient or f"r{i}@example.com"}
    if record_type == "Open":
        base.update({"ReceivedAt": "2019-11-05T16:40:00.0000000Z", "FirstOpen": True})
    return base


def test_filters_narrow_the_events(api: Api) -> None:
    conn = connect(api)
    other = connect(api)
    for i in range(3):
        post(api, conn["webhook_url"], _record(i))
    post(api, conn["webhook_url"], _record(9, "Open", "R0@Example.com"))
    post(api, other["webhook_url"], _record(20))
    assert len(events(api)) == 5
    assert len(events(api, connection_id=conn["id"])) == 4
    assert {e["type"] for e in events(api, recipient="r0@EXAMPLE.com")} == {"delivered", "opened"}
    assert [e["provider_message_id"] for e in events(api, type="opened")] == ["m-9"]
    assert [e["recipient"] for e in events(api, provider_message_id="m-1")] == ["r1@example.com"]
    assert len(events(api, since="2019-11-05T16:35:00Z")) == 1
    assert len(events(api, until="2019-11-05T16:35:00Z")) == 4


def test_a_cursor_pages_through_everything_once(api: Api) -> None:
    conn = connect(api)
    for i in range(7):
        post(api, conn["webhook_url"], _record(i))
    api.container.settle()
    seen, cursor = [], None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = api.client.get("/api/v1/email-events", params=params, headers=api.admin).json()
        seen += [e["provider_message_id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"m-{i}" for i in range(7))


def test_one_event_by_id_and_errors(api: Api) -> None:
    conn = connect(api)
    post(api, conn["webhook_url"], _record(1))
    [event] = events(api)
    one = api.client.get(f"/api/v1/email-events/{event['id']}", headers=api.admin)
    assert one.json() == event
    assert api.client.get(f"/api/v1/email-events/{uuid.uuid4()}", headers=api.admin).status_code == 404
    bad_type = api.client.get("/api/v1/email-events", params={"type": "exploded"}, headers=api.admin)
    assert bad_type.status_code == 400
    bad_cursor = api.client.get("/api/v1/email-events", params={"cursor": "abc"}, headers=api.admin)
    assert bad_cursor.status_code == 400 and bad_cursor.json()["error"]["details"]["fields"][0]["key"] == "cursor"
