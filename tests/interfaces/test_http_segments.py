"""Segments over HTTP: save, revise, archive, counts and members kept up to date as contacts change, preview."""

from __future__ import annotations

import time
from typing import Any

from tests.interfaces.client import Api, error_of


def contact(api: Api, email: str, tags: list[str] = (), **attributes: Any) -> str:  # type: ignore[assignment]
    response = api.client.post("/api/v1/contacts", json={"email": email, "attributes": attributes}, headers=api.admin)
    assert response.status_code in (200, 201), response.text
    contact_id = str(response.json()["id"])
    if tags:
        tagged = api.client.post(f"/api/v1/contacts/{contact_id}/tags", json={"add": list(tags)}, headers=api.admin)
        assert tagged.status_code == 200, tagged.text
    return contact_id


def eventually(check: Any, timeout: float = 2.0) -> Any:
    """The issue's promise: membership follows the event that changed it within 2 s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def members(api: Api, segment_id: str) -> set[str]:
    response = api.client.get(f"/api/v1/segments/{segment_id}/members?limit=1000", headers=api.admin)
    assert response.status_code == 200, response.text
    return {m["email"] for m in response.json()["items"]}


SPORTS_PROS = {"and": [{"tag": "interests/sports"}, {"attribute": "plan", "op": "eq", "value": "pro"}]}


def test_a_saved_segment_counts_and_lists_its_members(api: Api) -> None:
    contact(api, "ann@example.com", ["interests/sports/football"], plan="pro")
    contact(api, "bob@example.com", ["interests/sports"], plan="free")
    contact(api, "cy@example.com", ["interests/music"], plan="pro")

    created = api.client.post(
        "/api/v1/segments", json={"name": "Sporty pros", "definition": SPORTS_PROS}, headers=api.admin
    )

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["revision"] == 1 and body["members"] == 1
    assert members(api, body["id"]) == {"ann@example.com"}
    count = api.client.get(f"/api/v1/segments/{body['id']}/count", headers=api.admin).json()
    assert count["count"] == 1


def test_membership_follows_contact_and_tag_changes(api: Api) -> None:
    created = api.client.post(
        "/api/v1/segments", json={"name": "Sporty pros", "definition": SPORTS_PROS}, headers=api.admin
    ).json()
    segment_id = created["id"]
    assert members(api, segment_id) == set()

    dan = contact(api, "dan@example.com", ["interests/sports/tennis"], plan="free")
    api.client.patch(f"/api/v1/contacts/{dan}", json={"attributes": {"plan": "pro"}}, headers=api.admin)
    assert eventually(lambda: members(api, segment_id) == {"dan@example.com"})

    api.client.post(f"/api/v1/contacts/{dan}/tags", json={"remove": ["interests/sports/tennis"]}, headers=api.admin)
    assert eventually(lambda: members(api, segment_id) == set())


def test_a_new_revision_reevaluates_and_is_kept(api: Api) -> None:
    contact(api, "ann@example.com", ["interests/sports"], plan="pro")
    contact(api, "eve@example.com", ["interests/music"], plan="pro")
    segment_id = api.client.post(
        "/api/v1/segments", json={"name": "Pros", "definition": SPORTS_PROS}, headers=api.admin
    ).json()["id"]

    updated = api.client.patch(
        f"/api/v1/segments/{segment_id}",
        json={"definition": {"attribute": "plan", "op": "eq", "value": "pro"}, "reason": "all pros"},
        headers=api.admin,
    )

    assert updated.status_code == 200, updated.text
    assert updated.json()["revision"] == 2
    assert members(api, segment_id) == {"ann@example.com", "eve@example.com"}
    history = api.client.get(f"/api/v1/segments/{segment_id}/revisions", headers=api.admin).json()
    assert [r["revision"] for r in history] == [1, 2]
    assert history[0]["definition"] == SPORTS_PROS


def test_segments_refer_to_segments_and_cycles_are_refused(api: Api) -> None:
    contact(api, "ann@example.com", ["interests/sports"], plan="pro")
    contact(api, "bob@example.com", ["interests/sports"], plan="free")
    base = api.client.post(
        "/api/v1/segments", json={"name": "Sporty", "definition": {"tag": "interests/sports"}}, headers=api.admin
    ).json()["id"]
    derived = api.client.post(
        "/api/v1/segments",
        json={"name": "Sporty, not pro", "definition": {"and": [{"segment": base}, {"not": SPORTS_PROS}]}},
        headers=api.admin,
    ).json()["id"]
    assert members(api, derived) == {"bob@example.com"}

    cycle = api.client.patch(f"/api/v1/segments/{base}", json={"definition": {"segment": derived}}, headers=api.admin)

    details = error_of(cycle, 422, "invalid_segment_definition")
    assert details["path"].startswith("$")
    assert members(api, derived) == {"bob@example.com"}


def test_invalid_definitions_name_the_offending_node(api: Api) -> None:
    response = api.client.post(
        "/api/v1/segments",
        json={"name": "Broken", "definition": {"and": [{"tag": "ok"}, {"attribute": "plan", "op": "between"}]}},
        headers=api.admin,
    )

    details = error_of(response, 422, "invalid_segment_definition")
    assert details["path"].startswith("$.and[1]")


def test_archiving_drops_members_and_refuses_edits(api: Api) -> None:
    contact(api, "ann@example.com", ["interests/sports"], plan="pro")
    segment_id = api.client.post(
        "/api/v1/segments", json={"name": "Pros", "definition": SPORTS_PROS}, headers=api.admin
    ).json()["id"]

    archived = api.client.post(f"/api/v1/segments/{segment_id}/archive", headers=api.admin)

    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert members(api, segment_id) == set()
    error_of(api.client.patch(f"/api/v1/segments/{segment_id}", json={"name": "x"}, headers=api.admin), 409,
             "segment_archived")  # fmt: skip
    listed = api.client.get("/api/v1/segments", headers=api.admin).json()
    assert segment_id not in {s["id"] for s in listed}


def test_preview_counts_without_saving_and_is_cached_until_data_changes(api: Api) -> None:
    contact(api, "ann@example.com", ["interests/sports"], plan="pro")
    body = {"definition": SPORTS_PROS, "sample": 5}

    first = api.client.post("/api/v1/segments/preview", json=body, headers=api.admin).json()
    again = api.client.post("/api/v1/segments/preview", json=body, headers=api.admin).json()
    contact(api, "fay@example.com", ["interests/sports/golf"], plan="pro")
    api.container.settle()
    after_change = api.client.post("/api/v1/segments/preview", json=body, headers=api.admin).json()

    assert (first["count"], first["cached"]) == (1, False)
    assert (again["count"], again["cached"]) == (1, True)
    assert (after_change["count"], after_change["cached"]) == (2, False)
    assert {m["email"] for m in after_change["sample"]} == {"ann@example.com", "fay@example.com"}
    assert api.client.get("/api/v1/segments", headers=api.admin).json() == []


def test_roles_analysts_read_editors_write(api: Api) -> None:
    _, analyst = api.issue("analyst")
    headers = {"Authorization": f"Bearer {analyst}"}

    denied = api.client.post("/api/v1/segments", json={"name": "x", "definition": SPORTS_PROS}, headers=headers)
    allowed = api.client.post("/api/v1/segments/preview", json={"definition": SPORTS_PROS}, headers=headers)

    error_of(denied, 403, "forbidden")
    assert allowed.status_code == 200


def test_bulk_tagging_a_segments_members(api: Api) -> None:
    contact(api, "ann@example.com", ["interests/sports"], plan="pro")
    contact(api, "bob@example.com", ["interests/sports"], plan="free")
    segment_id = api.client.post(
        "/api/v1/segments", json={"name": "Pros", "definition": SPORTS_PROS}, headers=api.admin
    ).json()["id"]

    tagged = api.client.post("/api/v1/tags/bulk", json={"segment_id": segment_id, "add": ["vip"]}, headers=api.admin)

    assert tagged.status_code == 200, tagged.text
    assert tagged.json() == {"contacts": 1, "changed": 1}
    preview = api.client.post("/api/v1/segments/preview", json={"definition": {"tag": "vip"}}, headers=api.admin)
    assert [m["email"] for m in preview.json()["sample"]] == ["ann@example.com"]
    both = api.client.post(
        "/api/v1/tags/bulk", json={"segment_id": segment_id, "contact_ids": [segment_id], "add": ["x"]},
        headers=api.admin,
    )  # fmt: skip
    error_of(both, 422, "invalid")
    unknown = api.client.post(
        "/api/v1/tags/bulk", json={"segment_id": "00000000-0000-4000-8000-000000000000", "add": ["x"]},
        headers=api.admin,
    )  # fmt: skip
    error_of(unknown, 404, "not_found")
