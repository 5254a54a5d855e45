"""The tag API over HTTP, on SQLite and PostgreSQL: status codes, error bodies, roles, subtree edits."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from domain.ids import TAG_CATALOGUE
from tests.interfaces.client import Api, bearer, error_of

TAGS = "/api/v1/tags"


def new_contact(api: Api) -> str:
    response = api.client.post("/api/v1/contacts", json={"email": f"{uuid4().hex}@example.com"}, headers=api.admin)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def contact_url(api: Api) -> str:
    return f"/api/v1/contacts/{new_contact(api)}/tags"


def create(api: Api, path: str, **body: Any) -> dict[str, Any]:
    response = api.client.post(TAGS, json={"path": path, **body}, headers=api.admin)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_creating_a_tag_answers_201_with_the_node(api: Api) -> None:
    body = create(api, "interests/sports", description="Sport fans", metadata={"colour": "green"})

    parent = api.client.get(f"{TAGS}/interests", headers=api.admin).json()
    assert {k: body[k] for k in ("path", "slug", "description", "metadata", "depth")} == {
        "path": "interests/sports",
        "slug": "sports",
        "description": "Sport fans",
        "metadata": {"colour": "green"},
        "depth": 2,
    }
    assert body["parent_id"] == parent["id"]
    assert parent["parent_id"] is None


def test_a_bad_path_is_a_422_naming_the_segment(api: Api) -> None:
    response = api.client.post(TAGS, json={"path": "interests/Sports Fans"}, headers=api.admin)

    details = error_of(response, 422, "invalid_tag_path")
    assert details["segment"] == "Sports Fans"
    assert details["position"] == 1


def test_a_nul_character_in_a_description_is_a_422_and_the_read_models_keep_going(api: Api) -> None:
    # PostgreSQL text cannot hold U+0000: stored as an event, it would stop the tags projection for good.
    response = api.client.post(TAGS, json={"path": "vip", "description": "a\u0000b"}, headers=api.admin)

    assert error_of(response, 422, "invalid_tag_details")["field"] == "description"
    create(api, "vip", description="fine")
    assert api.client.get(f"{TAGS}/vip", headers=api.admin).json()["description"] == "fine"


def test_a_duplicate_path_is_a_409(api: Api) -> None:
    create(api, "vip")

    error_of(api.client.post(TAGS, json={"path": "vip"}, headers=api.admin), 409, "tag_exists")


def test_malformed_bodies_are_400(api: Api) -> None:
    response = api.client.post(TAGS, json={"path": "a", "colour": "red"}, headers=api.admin)

    assert error_of(response, 400, "bad_request")["fields"]


def test_listing_is_flat_by_default_and_nested_with_counts_on_request(api: Api) -> None:
    ann, bob = contact_url(api), contact_url(api)
    assert api.client.post(ann, json={"add": ["i/sports/football", "i/music"]}, headers=api.admin).status_code == 200
    assert api.client.post(bob, json={"add": ["i/sports"]}, headers=api.admin).status_code == 200

    flat = api.client.get(TAGS, headers=api.admin).json()
    tree = api.client.get(TAGS, params={"tree": "true"}, headers=api.admin).json()

    assert [t["path"] for t in flat] == ["i", "i/music", "i/sports", "i/sports/football"]
    assert "count" not in flat[0]
    (root,) = tree
    assert (root["path"], root["count"], root["own_count"]) == ("i", 2, 0)
    assert [(c["path"], c["count"], c["own_count"]) for c in root["children"]] == [
        ("i/music", 1, 1),
        ("i/sports", 2, 1),
    ]
    assert root["children"][1]["children"][0]["path"] == "i/sports/football"


def test_an_unknown_tag_is_a_404(api: Api) -> None:
    details = error_of(api.client.get(f"{TAGS}/no/such", headers=api.admin), 404, "unknown_tag")

    assert details == {"path": "no/such"}


def test_patch_renames_and_moves_and_contacts_follow(api: Api) -> None:
    contact = contact_url(api)
    api.client.post(contact, json={"add": ["interests/sports/football"]}, headers=api.admin)
    create(api, "archive")

    renamed = api.client.patch(f"{TAGS}/interests/sports", json={"slug": "sport"}, headers=api.admin)
    moved = api.client.patch(f"{TAGS}/interests/sport", json={"parent": "archive"}, headers=api.admin)
    described = api.client.patch(f"{TAGS}/archive/sport", json={"description": "Old", "parent": ""}, headers=api.admin)

    assert renamed.json()["path"] == "interests/sport"
    assert (moved.json()["path"], moved.json()["depth"]) == ("archive/sport", 2)
    assert (described.json()["path"], described.json()["description"]) == ("sport", "Old")
    assert api.client.get(contact, headers=api.admin).json()["tags"] == ["sport/football"]


def test_patch_refusals(api: Api) -> None:
    create(api, "a/b/c")
    create(api, "x/b")

    error_of(api.client.patch(f"{TAGS}/a", json={"parent": "a/b"}, headers=api.admin), 409, "tag_cycle")
    error_of(api.client.patch(f"{TAGS}/a/b", json={"parent": "x"}, headers=api.admin), 409, "tag_exists")
    error_of(api.client.patch(f"{TAGS}/a/b", json={"parent": "nope"}, headers=api.admin), 404, "unknown_tag")
    error_of(api.client.patch(f"{TAGS}/a/b", json={"slug": "B"}, headers=api.admin), 422, "invalid_tag_path")
    error_of(api.client.patch(f"{TAGS}/a", json={"metadata": {"x": "y" * 17_000}}, headers=api.admin), 422,
             "invalid_tag_details")  # fmt: skip
    # All or nothing: the rename before the refused move was not saved.
    error_of(
        api.client.patch(f"{TAGS}/a/b", json={"slug": "z", "parent": "a/b/c"}, headers=api.admin), 409, "tag_cycle"
    )
    assert api.client.get(f"{TAGS}/a/b/c", headers=api.admin).status_code == 200


def test_deleting_a_tag_in_use_needs_force(api: Api) -> None:
    contact = contact_url(api)
    api.client.post(contact, json={"add": ["events/berlin"]}, headers=api.admin)

    refused = api.client.delete(f"{TAGS}/events", headers=api.admin)
    forced = api.client.delete(f"{TAGS}/events", params={"force": "true", "reason": "event over"}, headers=api.admin)

    assert error_of(refused, 409, "tag_in_use") == {"path": "events", "contacts": 1}
    assert forced.status_code == 204
    assert api.client.get(f"{TAGS}/events/berlin", headers=api.admin).status_code == 404
    assert api.client.get(contact, headers=api.admin).json()["tags"] == []
    events = api.client.get(f"/api/v1/history/{TAG_CATALOGUE}", headers=api.admin).json()["events"]
    assert (events[-1]["type"], events[-1]["reason"]) == ("TagCatalogue.SubtreeDeleted", "event over")


def test_deleting_an_unused_subtree_needs_no_force(api: Api) -> None:
    create(api, "a/b/c")

    assert api.client.delete(f"{TAGS}/a", headers=api.admin).status_code == 204
    assert api.client.get(TAGS, headers=api.admin).json() == []


def test_tagging_a_contact_creates_new_paths_and_ignores_unknown_removals(api: Api) -> None:
    url = contact_url(api)

    added = api.client.post(url, json={"add": ["vip", "beta/testers"]}, headers=api.admin)
    changed = api.client.post(url, json={"add": ["vip"], "remove": ["beta/testers", "never/was"]}, headers=api.admin)

    assert added.status_code == 200
    assert added.json()["tags"] == ["beta/testers", "vip"]
    assert changed.json()["tags"] == ["vip"]
    assert api.client.get(url, headers=api.admin).json() == changed.json()
    assert api.client.get(f"{TAGS}/beta/testers", headers=api.admin).status_code == 200


def test_a_bad_path_in_a_tagging_names_the_list_and_index(api: Api) -> None:
    response = api.client.post(contact_url(api), json={"add": ["ok", "not ok"]}, headers=api.admin)

    details = error_of(response, 422, "invalid_tag_path")
    assert (details["field"], details["index"], details["segment"]) == ("add", 1, "not ok")
    assert api.client.get(TAGS, headers=api.admin).json() == []


def test_the_same_path_in_add_and_remove_is_a_422(api: Api) -> None:
    response = api.client.post(contact_url(api), json={"add": ["a"], "remove": ["a"]}, headers=api.admin)

    error_of(response, 422, "tag_in_add_and_remove")


def test_bulk_tagging(api: Api) -> None:
    contacts = [new_contact(api) for _ in range(30)]

    first = api.client.post(f"{TAGS}/bulk", json={"contact_ids": contacts, "add": ["promo/spring"]}, headers=api.admin)
    again = api.client.post(f"{TAGS}/bulk", json={"contact_ids": contacts[:5], "add": ["promo/spring"]},
                            headers=api.admin)  # fmt: skip

    assert first.json() == {"contacts": 30, "changed": 30}
    assert again.json() == {"contacts": 5, "changed": 0}
    tree = api.client.get(TAGS, params={"tree": "true"}, headers=api.admin).json()
    assert tree[0]["count"] == 30


def test_bulk_tagging_limits(api: Api) -> None:
    too_many = {"contact_ids": [str(uuid4()) for _ in range(10_001)], "add": ["x"]}

    error_of(api.client.post(f"{TAGS}/bulk", json=too_many, headers=api.admin), 400, "bad_request")
    error_of(api.client.post(f"{TAGS}/bulk", json={"contact_ids": [], "add": ["x"]}, headers=api.admin), 400,
             "bad_request")  # fmt: skip


def test_a_tag_named_bulk_stays_reachable(api: Api) -> None:
    create(api, "bulk")

    assert api.client.get(f"{TAGS}/bulk", headers=api.admin).json()["path"] == "bulk"
    assert api.client.patch(f"{TAGS}/bulk", json={"slug": "mass"}, headers=api.admin).json()["path"] == "mass"
    create(api, "bulk")
    assert api.client.delete(f"{TAGS}/bulk", headers=api.admin).status_code == 204


def test_writes_need_an_editor_and_reads_any_role(api: Api) -> None:
    _, analyst = api.issue("analyst")
    _, editor = api.issue("editor")
    url = contact_url(api)

    error_of(api.client.post(TAGS, json={"path": "a"}, headers=bearer(analyst)), 403, "forbidden")
    error_of(api.client.post(url, json={"add": ["a"]}, headers=bearer(analyst)), 403, "forbidden")
    error_of(api.client.post(f"{TAGS}/bulk", json={"contact_ids": [new_contact(api)]}, headers=bearer(analyst)), 403,
             "forbidden")  # fmt: skip
    assert api.client.post(TAGS, json={"path": "a"}, headers=bearer(editor)).status_code == 201
    error_of(api.client.delete(f"{TAGS}/a", headers=bearer(analyst)), 403, "forbidden")
    assert api.client.get(f"{TAGS}/a", headers=bearer(analyst)).status_code == 200
    assert api.client.get(url, headers=bearer(analyst)).json()["tags"] == []
    error_of(api.client.get(TAGS), 401, "unauthorized")


def test_the_catalogue_state_is_auditable(api: Api) -> None:
    create(api, "a/b")

    response = api.client.get(f"/api/v1/history/{TAG_CATALOGUE}/state", headers=api.admin)

    assert response.status_code == 200
    nodes = response.json()["state"]["nodes"]
    assert sorted(n["slug"] for n in nodes.values()) == ["a", "b"]


def test_an_unknown_contact_is_a_404(api: Api) -> None:
    url = f"/api/v1/contacts/{uuid4()}/tags"

    error_of(api.client.get(url, headers=api.admin), 404, "not_found")
    error_of(api.client.post(url, json={"add": ["vip"]}, headers=api.admin), 404, "not_found")
    assert api.client.get(TAGS, headers=api.admin).json() == []


def test_bulk_tagging_with_unknown_contacts_tags_nobody(api: Api) -> None:
    known, unknown = new_contact(api), str(uuid4())

    response = api.client.post(f"{TAGS}/bulk", json={"contact_ids": [known, unknown], "add": ["x"]}, headers=api.admin)

    assert error_of(response, 404, "not_found") == {"count": 1, "unknown": [unknown]}
    assert api.client.get(f"/api/v1/contacts/{known}/tags", headers=api.admin).json()["tags"] == []
