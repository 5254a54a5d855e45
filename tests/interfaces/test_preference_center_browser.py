"""The contact pages in real headless Chromium on a phone, with JavaScript off: preference center and one-click.

Screenshots of each step go to test-artifacts/ (kept by the run, ignored by git).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from interfaces.bootstrap import Container
from tests.interfaces.browser import ARTIFACTS, phone_page, served
from tests.interfaces.client import sign_in

PUBLIC = "http://127.0.0.1:8000"


@dataclass
class Live:
    """A served app on a real port, an admin client, and the links of one contact."""

    url: str
    http: httpx.Client
    contact_id: str
    links: dict[str, Any]

    def local(self, url: str) -> str:
        return url.replace(PUBLIC, self.url)


@pytest.fixture
def live(container: Container) -> Iterator[Live]:
    _, headers = sign_in(container)
    with served(container) as url, httpx.Client(base_url=url, headers=headers) as http:
        for key, name, text in (("news", "Weekly news", "The week's stories, every Friday."),
                                ("offers", "Offers", "Discounts and early access.")):  # fmt: skip
            assert http.post("/api/v1/preference-categories", json={"key": key, "name": name, "description": text})
        contact = http.post("/api/v1/contacts", json={"email": "ann@example.com"}).json()["id"]
        links = http.post(f"/api/v1/contacts/{contact}/preference-links").json()
        yield Live(url, http, contact, links)


@pytest.fixture
def page() -> Iterator[Page]:
    with phone_page(javascript=False) as opened:  # the pages must work without JavaScript
        yield opened


def _shoot(page: Page, name: str, backend: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{backend}.png"), full_page=True)


def _assert_accessible(page: Page) -> None:
    """Checks a tool-free audit can make: language, one main landmark, a heading, labelled controls."""
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    for control in page.locator("input:not([type=hidden]), select, textarea").all():
        control_id = control.get_attribute("id")
        assert control_id and page.locator(f"label[for='{control_id}']").count() == 1, control_id
    for fieldset in page.locator("fieldset").all():
        expect(fieldset.locator("legend")).to_have_count(1)
    for button in page.get_by_role("button").all():
        assert button.inner_text().strip()


@pytest.mark.slow
def test_a_contact_changes_topics_and_frequency_on_a_phone(live: Live, page: Page, backend: str) -> None:
    response = page.goto(live.local(live.links["preferences_url"]))

    assert response is not None and response.status == 200
    assert "script-src" not in response.headers["content-security-policy"]  # no script at all
    _assert_accessible(page)
    save = page.get_by_role("button", name="Save my preferences")
    expect(save).to_have_css("background-color", "rgb(11, 87, 208)")  # the hashed inline stylesheet applied
    expect(page.get_by_label("Weekly news")).to_be_checked()
    expect(page.get_by_text("The week's stories, every Friday.")).to_be_visible()
    _shoot(page, "preference-center", backend)

    page.get_by_label("Weekly news").uncheck()
    page.get_by_label("At most one a week").check()
    save.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Preferences saved")
    expect(page.get_by_role("status").get_by_role("listitem")).to_have_text(
        [
            "You will no longer receive Weekly news.",
            "How often we write: at most one a week.",
        ]
    )
    _assert_accessible(page)
    _shoot(page, "preference-center-saved", backend)
    saved = live.http.get(f"/api/v1/contacts/{live.contact_id}/preferences").json()
    assert saved["frequency"] == {"max": 1, "per": "week"}
    assert {c["key"]: c["subscribed"] for c in saved["categories"]} == {"news": False, "offers": True}

    page.get_by_role("link", name="Back to my preferences").click()
    expect(page.get_by_label("Weekly news")).not_to_be_checked()
    expect(page.get_by_label("At most one a week")).to_be_checked()


@pytest.mark.slow
def test_one_click_confirmation_page_unsubscribes_only_when_the_button_is_pressed(
    live: Live, page: Page, backend: str
) -> None:
    page.goto(live.local(live.links["category_unsubscribe_urls"]["offers"]))

    _assert_accessible(page)
    expect(page.get_by_text("Unsubscribe from “Offers”?")).to_be_visible()
    _shoot(page, "unsubscribe-confirm", backend)
    untouched = live.http.get(f"/api/v1/contacts/{live.contact_id}/preferences").json()
    assert {c["key"]: c["subscribed"] for c in untouched["categories"]} == {"news": True, "offers": True}

    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    expect(page.get_by_role("status")).to_have_text("You will no longer receive “Offers”.")
    assert page.url == live.local(live.links["category_unsubscribe_urls"]["offers"])  # no redirect
    _shoot(page, "unsubscribe-done", backend)
    done = live.http.get(f"/api/v1/contacts/{live.contact_id}/preferences").json()
    assert ({c["key"]: c["subscribed"] for c in done["categories"]}, done["opted_out"]) == (
        {"news": True, "offers": False},
        False,
    )
