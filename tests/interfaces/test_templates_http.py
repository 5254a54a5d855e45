"""Templates over HTTP: save, version every layout change, read old layouts; editors write, everyone reads."""

from __future__ import annotations

from tests.interfaces.client import Api, bearer, error_of

LAYOUT = "<html><body>{{ content }}</body></html>"


def test_a_template_keeps_every_layout_version(api: Api) -> None:
    created = api.client.post("/api/v1/templates", json={"name": "Plain", "html": LAYOUT}, headers=api.admin)
    assert created.status_code == 201, created.text
    template_id = created.json()["id"]

    changed = api.client.patch(
        f"/api/v1/templates/{template_id}", json={"html": LAYOUT.replace("body", "main"), "text": "{{content}}"},
        headers=api.admin,
    )  # fmt: skip
    renamed = api.client.patch(f"/api/v1/templates/{template_id}", json={"name": "Plainer"}, headers=api.admin)

    assert changed.status_code == 200 and changed.json()["layout_version"] == 2
    assert renamed.json()["layout_version"] == 2 and renamed.json()["name"] == "Plainer"
    history = api.client.get(f"/api/v1/templates/{template_id}/versions", headers=api.admin).json()
    assert [(v["version"], v["text"]) for v in history] == [(1, None), (2, "{{content}}")]
    first = api.client.get(f"/api/v1/templates/{template_id}/versions/1", headers=api.admin).json()
    assert first["html"] == LAYOUT
    listed = api.client.get("/api/v1/templates", headers=api.admin).json()
    assert [t["name"] for t in listed] == ["Plainer"]


def test_a_layout_without_the_content_slot_is_refused(api: Api) -> None:
    response = api.client.post(
        "/api/v1/templates", json={"name": "Broken", "html": "<p>no slot</p>"}, headers=api.admin
    )

    assert error_of(response, 422, "invalid_layout") == {"field": "html", "slots": 0}


def test_analysts_read_but_do_not_write_templates(api: Api) -> None:
    _, token = api.issue("analyst")

    denied = api.client.post("/api/v1/templates", json={"name": "x", "html": LAYOUT}, headers=bearer(token))

    error_of(denied, 403, "forbidden")
    assert api.client.get("/api/v1/templates", headers=bearer(token)).status_code == 200
    error_of(api.client.get(f"/api/v1/templates/{api.admin_id}", headers=bearer(token)), 404, "not_found")
    error_of(api.client.get(f"/api/v1/templates/{api.admin_id}/versions/1", headers=bearer(token)), 404, "not_found")
