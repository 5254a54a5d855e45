"""POST /api/v1/contacts/{id}/preference-links: editor+ gets fresh signed links that verify for their purpose."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from domain.link_tokens import Purpose
from interfaces.link_keys import links_of
from tests.interfaces.client import Api, bearer, error_of
from tests.interfaces.test_unsubscribe_pages import reader


def _token(url: str, prefix: str) -> str:
    assert url.startswith(f"http://127.0.0.1:8000/{prefix}/")
    return url.rsplit("/", 1)[1]


def test_an_editor_gets_links_for_the_preference_center_and_each_unsubscribe(api: Api) -> None:
    r = reader(api)
    _, editor = api.issue("editor")

    response = api.client.post(f"/api/v1/contacts/{r.id}/preference-links", headers=bearer(editor))

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"preferences_url", "unsubscribe_url", "category_unsubscribe_urls"}
    keys, now = links_of(api.container).keys, datetime.now(UTC)
    preferences = keys.verify(_token(body["preferences_url"], "preferences"), Purpose.PREFERENCES, now)
    everything = keys.verify(_token(body["unsubscribe_url"], "u"), Purpose.UNSUBSCRIBE, now)
    assert str(preferences.contact_id) == str(everything.contact_id) == r.id
    assert everything.category is None
    assert {
        key: keys.verify(_token(url, "u"), Purpose.UNSUBSCRIBE, now).category
        for key, url in body["category_unsubscribe_urls"].items()
    } == {"news": "news", "offers": "offers"}


def test_an_analyst_may_not_mint_links(api: Api) -> None:
    r = reader(api)
    _, analyst = api.issue("analyst")

    error_of(api.client.post(f"/api/v1/contacts/{r.id}/preference-links", headers=bearer(analyst)), 403, "forbidden")


def test_an_unknown_contact_is_a_404(api: Api) -> None:
    response = api.client.post(f"/api/v1/contacts/{uuid4()}/preference-links", headers=api.admin)

    error_of(response, 404, "not_found")


def test_no_key_no_links(api: Api) -> None:
    error_of(api.client.post(f"/api/v1/contacts/{uuid4()}/preference-links"), 401, "unauthorized")
