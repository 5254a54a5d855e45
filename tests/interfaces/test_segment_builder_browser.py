"""The segment builder in real headless Chromium: conditions built by clicking show the audience size live.

Screenshots go to test-artifacts/ (kept by the run, ignored by git).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Page, expect

from interfaces.bootstrap import Container
from tests.interfaces.browser import ARTIFACTS, phone_page, served
from tests.interfaces.client import sign_in


@dataclass
class Live:
    """A served app on a real port, and an admin API key for it."""

    url: str
    token: str
    http: httpx.Client


@pytest.fixture
def live(container: Container) -> Iterator[Live]:
    _, headers = sign_in(container)
    with served(container) as url, httpx.Client(base_url=url, headers=headers) as http:
        yield Live(url, headers["Authorization"].removeprefix("Bearer "), http)


@pytest.fixture
def page() -> Iterator[Page]:
    with phone_page() as opened:
        yield opened


def _contact(live: Live, email: str, tags: list[str], plan: str) -> None:
    created = live.http.post("/api/v1/contacts", json={"email": email, "attributes": {"plan": plan}})
    assert created.status_code in (200, 201), created.text
    tagged = live.http.post(f"/api/v1/contacts/{created.json()['id']}/tags", json={"add": tags})
    assert tagged.status_code == 200, tagged.text


@pytest.mark.slow
def test_building_a_segment_shows_the_audience_live_and_saves_it(live: Live, page: Page) -> None:
    _contact(live, "ann@example.com", ["interests/sports/football"], "pro")
    _contact(live, "bob@example.com", ["interests/sports"], "free")
    _contact(live, "cy@example.com", ["interests/music"], "pro")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    response = page.goto(f"{live.url}/ui/segments/builder")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_label("API key").fill(live.token)
    page.get_by_label("API key").dispatch_event("change")
    count = page.locator("#audience-count")
    expect(count).to_have_text("Add a condition to see the audience size.")

    page.get_by_role("button", name="+ Tag").click()
    page.get_by_label("Tag path").fill("interests/sports")
    expect(count).to_have_text("2 contacts")
    expect(page.locator("#audience-sample li")).to_have_count(2)

    page.get_by_role("button", name="+ Field").click()
    page.get_by_label("Field").fill("plan")
    page.get_by_label("Value", exact=True).fill("pro")
    expect(count).to_have_text("1 contact")
    expect(page.locator("#audience-sample li")).to_have_text(["ann@example.com"])

    page.get_by_label("Exclude").first.check()
    expect(count).to_have_text("1 contact")  # not sporty, and pro: cy
    expect(page.locator("#audience-sample li")).to_have_text(["cy@example.com"])

    page.get_by_label("Field").fill("")
    expect(page.locator("#audience-error")).to_contain_text("$.and[1]")

    page.get_by_label("Field").fill("plan")
    page.get_by_label("Name").fill("Pros outside sports")
    page.get_by_role("button", name="Save segment").click()
    expect(page.locator("#save-status")).to_have_text(re.compile("Saved “Pros outside sports”"))

    saved = live.http.get("/api/v1/segments").json()
    assert [(s["name"], s["members"]) for s in saved] == [("Pros outside sports", 1)]
    assert saved[0]["definition"] == {
        "and": [{"not": {"tag": "interests/sports"}}, {"attribute": "plan", "op": "eq", "value": "pro"}]
    }
    assert errors == []


def _preferring_contacts(live: Live) -> dict[str, str]:
    """Four contacts whose preferences and suppressions differ; their ids by email."""
    for key, name, default in (("news", "Weekly news", False), ("offers", "Offers", True)):
        defined = live.http.post(
            "/api/v1/preference-categories", json={"key": key, "name": name, "default_subscribed": default}
        )
        assert defined.status_code == 201, defined.text
    ids = {}
    for email, preferences in (
        ("ann@example.com", {"categories": {"news": True}}),
        ("bob@example.com", {"categories": {"news": True}, "opted_out": True}),
        ("cy@example.com", {"categories": {"offers": False}}),
        ("dee@example.com", None),
    ):
        ids[email] = live.http.post("/api/v1/contacts", json={"email": email}).json()["id"]
        if preferences:
            changed = live.http.patch(f"/api/v1/contacts/{ids[email]}/preferences", json=preferences)
            assert changed.status_code == 200, changed.text
    _suppress(live, "cy@example.com")
    return ids


def _suppress(live: Live, address: str) -> None:
    suppressed = live.http.post("/api/v1/suppressions", json={"address": address})
    assert suppressed.status_code == 201, suppressed.text


def _expect_audience(page: Page, live: Live, ids: dict[str, str], emails: set[str]) -> None:
    """The page shows this audience (its sample in id order), and the API counts the page's definition alike."""
    shown = sorted(emails, key=ids.__getitem__)
    expect(page.locator("#audience-count")).to_have_text(f"{len(shown)} contact{'' if len(shown) == 1 else 's'}")
    expect(page.locator("#audience-sample li")).to_have_text(shown)
    built = json.loads(page.locator("#definition-json").text_content() or "")
    previewed = live.http.post("/api/v1/segments/preview", json={"definition": built})
    assert previewed.status_code == 200, previewed.text
    assert [c["email"] for c in previewed.json()["sample"]] == shown


def _built(page: Page) -> object:
    return json.loads(page.locator("#definition-json").text_content() or "")


def _assert_labelled_and_fits_a_phone(page: Page) -> None:
    for control in page.locator("input, select, textarea").all():
        control_id = control.get_attribute("id")
        assert control_id and page.locator(f"label[for='{control_id}']").count() == 1, control_id
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"


@pytest.mark.slow
def test_preference_conditions_show_who_wants_mail_live(live: Live, page: Page, backend: str) -> None:
    ids = _preferring_contacts(live)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live.url}/ui/segments/builder")
    page.get_by_label("API key").fill(live.token)
    page.get_by_label("API key").dispatch_event("change")
    remove = page.get_by_role("button", name="Remove condition")
    count = page.locator("#audience-count")

    page.get_by_role("button", name="+ Subscribed").click()
    category = page.get_by_label("Subscribed to category")
    expect(category.locator("option")).to_have_text(["choose a category", "Weekly news (news)", "Offers (offers)"])
    category.select_option("news")
    _expect_audience(page, live, ids, {"ann@example.com"})  # bob said yes, but then opted out of everything
    category.select_option("offers")
    _expect_audience(page, live, ids, {"ann@example.com", "dee@example.com"})  # by default; cy said no
    page.get_by_label("Exclude").check()
    _expect_audience(page, live, ids, {"bob@example.com", "cy@example.com"})
    box = page.get_by_label("Exclude").bounding_box()
    assert box and box["height"] < 48, box  # not stretched by the phone's column layout
    assert _built(page) == {"and": [{"not": {"subscribed": "offers"}}]}
    remove.click()
    expect(count).to_have_text("Add a condition to see the audience size.")

    page.get_by_role("button", name="+ Opted out").click()
    expect(page.get_by_label("Exclude")).to_have_count(0)  # the yes/no select is the negation
    _expect_audience(page, live, ids, {"bob@example.com"})
    page.get_by_label("Opted out (globally)").select_option("no")
    _expect_audience(page, live, ids, {"ann@example.com", "cy@example.com", "dee@example.com"})
    assert _built(page) == {"and": [{"opted_out": False}]}
    remove.click()
    expect(count).to_have_text("Add a condition to see the audience size.")

    page.get_by_role("button", name="+ Suppressed").click()
    suppressed = page.get_by_label("Suppressed", exact=True)
    _expect_audience(page, live, ids, {"cy@example.com"})
    suppressed.select_option("no")
    _expect_audience(page, live, ids, {"ann@example.com", "bob@example.com", "dee@example.com"})
    _suppress(live, "dee@example.com")  # both definitions were counted before: the count must follow the data
    suppressed.select_option("yes")
    _expect_audience(page, live, ids, {"cy@example.com", "dee@example.com"})
    suppressed.select_option("no")
    _expect_audience(page, live, ids, {"ann@example.com", "bob@example.com"})

    page.get_by_role("button", name="+ Subscribed").click()
    page.get_by_label("Subscribed to category").select_option("offers")
    _expect_audience(page, live, ids, {"ann@example.com"})
    page.get_by_label("Name").fill("Offers audience")
    page.get_by_role("button", name="Save segment").click()
    expect(page.locator("#save-status")).to_have_text(re.compile("Saved “Offers audience”"))
    saved = live.http.get("/api/v1/segments").json()
    assert [(s["name"], s["members"]) for s in saved] == [("Offers audience", 1)]
    assert saved[0]["definition"] == {"and": [{"suppressed": False}, {"subscribed": "offers"}]}

    _assert_labelled_and_fits_a_phone(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"segment-builder-preferences-{backend}.png"), full_page=True)
    assert errors == []


def test_the_builder_page_needs_no_key_to_load_but_its_assets_are_a_fixed_list(live: Live) -> None:
    with httpx.Client(base_url=live.url) as anonymous:
        assert anonymous.get("/ui/segments/builder").status_code == 200
        assert anonymous.get("/ui/static/segment_builder.js").headers["content-type"].startswith("text/javascript")
        assert anonymous.get("/ui/static/..%2Fbuilder.py").status_code == 404
        assert anonymous.post("/api/v1/segments/preview", json={"definition": {"tag": "x"}}).status_code == 401
