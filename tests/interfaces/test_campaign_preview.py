"""POST /api/v1/campaigns/{id}/preview: a stored contact or sample data, the pinned layout, the CSP, errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.interfaces.client import Api, bearer, error_of

CAMPAIGNS = "/api/v1/campaigns"
LAYOUT = "<html><head><style>h1 { color: #123456 }</style></head><body>{{ content }}</body></html>"
HTML = (
    "<h1>Hi {{ contact.attributes.first_name | default: 'there' }}</h1>"
    "<p>{{ '2026-12-24T18:30:00Z' | date: '%H:%M' }}</p><a href='{{ unsubscribe_url }}'>Unsubscribe</a>"
)


@pytest.fixture
def campaign(api: Api) -> dict[str, Any]:
    """A campaign in category news wrapped in a template with a style sheet."""
    api.container.preferences.define_category("news", "News")
    template = api.client.post("/api/v1/templates", json={"name": "Plain", "html": LAYOUT}, headers=api.admin)
    assert template.status_code == 201, template.text
    body = {"name": "Winter", "category": "news", "from_name": "Shop", "from_address": "news@example.com",
            "subject": "Hello {{ contact.attributes.first_name | default: 'friend' }}", "html": HTML,
            "template_id": template.json()["id"]}  # fmt: skip
    response = api.client.post(CAMPAIGNS, json=body, headers=api.admin)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _preview(api: Api, campaign_id: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return api.client.post(f"{CAMPAIGNS}/{campaign_id}/preview", json=body, headers=headers or api.admin)


def test_a_stored_contact_previews_with_its_fields_zone_layout_and_headers(api: Api, campaign: dict[str, Any]) -> None:
    contact = api.client.post("/api/v1/contacts", json={"email": "ann@example.com", "timezone": "Asia/Tokyo",
                              "attributes": {"first_name": "Ann"}}, headers=api.admin)  # fmt: skip
    assert contact.status_code == 201, contact.text
    api.container.settle()

    response = _preview(api, campaign["id"], {"contact_id": contact.json()["id"]})

    assert response.status_code == 200, response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "sandbox" in response.headers["content-security-policy"]
    out = response.json()
    assert (out["version"], out["subject"]) == (1, "Hello Ann")
    assert "<style" not in out["html"] and 'style="color: #123456;"' in out["html"]
    assert "03:30" in out["html"]  # 18:30 UTC in Tokyo
    assert "Hi Ann" in out["text"] and "<h1>" not in out["text"]
    assert out["headers"]["From"] == "Shop <news@example.com>" and out["headers"]["To"] == "ann@example.com"
    assert out["headers"]["List-Unsubscribe"].startswith("<") and "/u/" in out["headers"]["List-Unsubscribe"]


def test_sample_data_previews_and_html_can_be_asked_for_alone(api: Api, campaign: dict[str, Any]) -> None:
    sample = {"sample": {"email": "Bob@Example.com", "attributes": {"first_name": "Bob"}, "locale": "de"}}
    out = _preview(api, campaign["id"], sample).json()
    assert out["subject"] == "Hello Bob" and out["headers"]["To"] == "bob@example.com"

    html = _preview(api, campaign["id"], sample, {**api.admin, "Accept": "text/html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.text == out["html"]
    assert "script-src" not in html.headers["content-security-policy"]
    assert html.headers["cache-control"] == "no-store"


def test_an_analyst_may_preview_an_older_version(api: Api, campaign: dict[str, Any]) -> None:
    changed = api.client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"subject": "Second"}, headers=api.admin)
    assert changed.status_code == 200, changed.text
    _, token = api.issue("analyst")
    old = _preview(api, campaign["id"], {"version": 1, "sample": {"email": "a@example.com"}}, bearer(token))
    assert old.status_code == 200, old.text
    assert (old.json()["version"], old.json()["subject"]) == (1, "Hello friend")
    new = _preview(api, campaign["id"], {"sample": {"email": "a@example.com"}}, bearer(token)).json()
    assert (new["version"], new["subject"]) == (2, "Second")


def test_a_variable_without_value_is_a_422_naming_it(api: Api, campaign: dict[str, Any]) -> None:
    api.client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"html": "<p>{{ contact.attributes.plan }}</p>"},
                     headers=api.admin)  # fmt: skip
    details = error_of(_preview(api, campaign["id"], {"sample": {"email": "a@example.com"}}), 422, "render_error")
    assert details == {"part": "html", "variable": "contact.attributes.plan"}


def test_bad_requests_answer_with_the_error_shape(api: Api, campaign: dict[str, Any]) -> None:
    cid = campaign["id"]
    error_of(_preview(api, cid, {}), 422, "invalid")
    error_of(_preview(api, cid, {"contact_id": cid, "sample": {"email": "a@example.com"}}), 422, "invalid")
    error_of(_preview(api, cid, {"contact_id": cid}), 404, "not_found")
    error_of(_preview(api, cid, {"version": 9, "sample": {"email": "a@example.com"}}), 404, "not_found")
    error_of(_preview(api, "00000000-0000-4000-8000-000000000000", {"sample": {"email": "a@example.com"}}), 404,
             "not_found")  # fmt: skip
    assert error_of(_preview(api, cid, {"sample": {"email": "a@example.com", "timezone": "Mars/Base"}}), 422,
                    "unknown_timezone")["field"] == "timezone"  # fmt: skip
    error_of(_preview(api, cid, {"sample": {"email": "not an address"}}), 422, "invalid_email")
    error_of(_preview(api, cid, {"sample": {"email": "a@example.com"}, "extra": 1}), 400, "bad_request")
    error_of(api.client.post(f"{CAMPAIGNS}/{cid}/preview", json={"sample": {"email": "a@example.com"}}), 401,
             "unauthorized")  # fmt: skip
