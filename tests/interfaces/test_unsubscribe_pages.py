"""One-click unsubscribe (RFC 8058): GET only asks, POST unsubscribes at once and again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.contact_preferences import preferences_id
from domain.link_tokens import Purpose
from interfaces.link_keys import links_of
from tests.interfaces.client import Api

ONE_CLICK = {"content-type": "application/x-www-form-urlencoded"}


@dataclass
class Reader:
    """A contact with two categories, and the links minted for it."""

    id: str
    links: dict[str, Any]

    def path(self, url: str) -> str:
        return url.removeprefix("http://127.0.0.1:8000")


def reader(api: Api) -> Reader:
    for key, name in (("news", "Weekly news"), ("offers", "Offers")):
        body = {"key": key, "name": name, "description": f"About {name}"}
        assert api.client.post("/api/v1/preference-categories", json=body, headers=api.admin).status_code == 201
    created = api.client.post("/api/v1/contacts", json={"email": f"{uuid4().hex[:8]}@example.com"}, headers=api.admin)
    contact_id = created.json()["id"]
    links = api.client.post(f"/api/v1/contacts/{contact_id}/preference-links", headers=api.admin)
    assert links.status_code == 200, links.text
    return Reader(contact_id, links.json())


def events(api: Api, contact_id: str) -> list[dict[str, Any]]:
    response = api.client.get(f"/api/v1/history/{preferences_id(UUID(contact_id))}", headers=api.admin)
    return list(response.json()["events"]) if response.status_code == 200 else []


def prefs(api: Api, contact_id: str) -> tuple[bool, dict[str, bool]]:
    current = api.container.preferences.get(UUID(contact_id))
    return current.opted_out, dict(current.categories)


def assert_page(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "set-cookie" not in response.headers
    assert "Traceback" not in response.text and not response.text.lstrip().startswith("{")
    return str(response.text)


def test_get_only_shows_a_button_and_changes_nothing(api: Api) -> None:
    r = reader(api)

    for _ in range(3):  # a link scanner may fetch it more than once
        text = assert_page(api.client.get(r.path(r.links["unsubscribe_url"])), 200)

    assert '<form method="post">' in text and "<button" in text
    assert "Unsubscribe from all our marketing email?" in text
    assert events(api, r.id) == []
    assert prefs(api, r.id) == (False, {})


def test_one_click_post_unsubscribes_at_once_without_redirect_and_a_repeat_changes_nothing(api: Api) -> None:
    r = reader(api)
    url = r.path(r.links["unsubscribe_url"])

    first = api.client.post(url, content="List-Unsubscribe=One-Click", headers=ONE_CLICK, follow_redirects=False)
    assert "no longer receive marketing email" in assert_page(first, 200)
    assert prefs(api, r.id) == (True, {})
    recorded = events(api, r.id)

    again = api.client.post(url, content="List-Unsubscribe=One-Click", headers=ONE_CLICK, follow_redirects=False)
    assert_page(again, 200)
    assert events(api, r.id) == recorded
    assert [e["type"] for e in recorded][-1].endswith("OptedOut")


def test_a_category_link_unsubscribes_from_that_category_only(api: Api) -> None:
    r = reader(api)
    url = r.path(r.links["category_unsubscribe_urls"]["news"])

    assert "“Weekly news”" in assert_page(api.client.get(url), 200)
    assert prefs(api, r.id) == (False, {})
    done = api.client.post(url, content="List-Unsubscribe=One-Click", headers=ONE_CLICK)

    assert "You will no longer receive “Weekly news”." in assert_page(done, 200)
    assert prefs(api, r.id) == (False, {"news": False})


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ("", {}),  # a client that sends no body at all
        ("List-Unsubscribe=One-Click", {"content-type": "multipart/form-data; boundary=x"}),  # unparsed, still fine
        ("List-Unsubscribe=One-Click", {"sec-fetch-site": "cross-site", **ONE_CLICK}),  # webmail posting from afar
    ],
)
def test_any_post_unsubscribes(api: Api, body: str, headers: dict[str, str]) -> None:
    r = reader(api)

    assert_page(api.client.post(r.path(r.links["unsubscribe_url"]), content=body, headers=headers), 200)

    assert prefs(api, r.id)[0] is True


def test_the_audit_trail_names_the_contact_and_the_source(api: Api) -> None:
    r = reader(api)

    api.client.post(r.path(r.links["unsubscribe_url"]), content="List-Unsubscribe=One-Click", headers=ONE_CLICK)

    last = events(api, r.id)[-1]
    assert last["actor"] == f"contact:{r.id}"
    assert last["payload"]["source"] == "contact"
    assert last["request_id"]


def _bad_tokens(api: Api, r: Reader) -> dict[str, tuple[str, int]]:
    keys = links_of(api.container).keys
    past = datetime.now(UTC) - timedelta(days=400)
    good = r.path(r.links["unsubscribe_url"]).rsplit("/", 1)[1]
    flipped = good[:10] + ("A" if good[10] != "A" else "B") + good[11:]
    return {
        "tampered": (flipped, 400),
        "truncated": (good[:-5], 400),
        "garbage": ("not-a-token", 400),
        "another purpose": (r.path(r.links["preferences_url"]).rsplit("/", 1)[1], 400),
        "expired": (keys.sign(UUID(r.id), Purpose.UNSUBSCRIBE, past), 410),
        "unknown contact": (keys.sign(uuid4(), Purpose.UNSUBSCRIBE, datetime.now(UTC)), 404),
    }


@pytest.mark.parametrize("method", ["get", "post"])
def test_bad_links_get_a_friendly_page_with_the_right_status_and_change_nothing(api: Api, method: str) -> None:
    r = reader(api)

    for name, (token, status) in _bad_tokens(api, r).items():
        response = api.client.request(method.upper(), f"/u/{token}", content="List-Unsubscribe=One-Click")
        text = assert_page(response, status)
        assert 'role="alert"' in text, name

    assert events(api, r.id) == []
