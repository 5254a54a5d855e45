"""The segment builder in real headless Chromium: conditions built by clicking show the audience size live."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright

from interfaces.bootstrap import Container
from interfaces.http.app import create_app
from tests.interfaces.client import sign_in

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@dataclass
class Live:
    """A served app on a real port, and an admin API key for it."""

    url: str
    token: str
    http: httpx.Client


@pytest.fixture
def live(container: Container) -> Iterator[Live]:
    _, headers = sign_in(container)
    config = uvicorn.Config(
        create_app(container, run_projections=True), host="127.0.0.1", port=0, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, headers=headers) as http:
        yield Live(url, headers["Authorization"].removeprefix("Bearer "), http)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone-sized window
        yield context.new_page()
        browser.close()


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


def test_the_builder_page_needs_no_key_to_load_but_its_assets_are_a_fixed_list(live: Live) -> None:
    with httpx.Client(base_url=live.url) as anonymous:
        assert anonymous.get("/ui/segments/builder").status_code == 200
        assert anonymous.get("/ui/static/segment_builder.js").headers["content-type"].startswith("text/javascript")
        assert anonymous.get("/ui/static/..%2Fbuilder.py").status_code == 404
        assert anonymous.post("/api/v1/segments/preview", json={"definition": {"tag": "x"}}).status_code == 401
