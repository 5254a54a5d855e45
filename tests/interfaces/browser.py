"""What the browser tests share: the app served on a real port, and headless Chromium in a phone-sized window."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, sync_playwright

from interfaces.bootstrap import Container
from interfaces.http.app import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # Debian's, installed by scripts/ensure-browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # screenshots, kept by the run
PHONE = {"width": 390, "height": 844}


@contextmanager
def served(container: Container) -> Iterator[str]:
    """The app (projections running) on 127.0.0.1 at a free port; yields its base URL."""
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
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def phone_page(*, javascript: bool = True) -> Iterator[Page]:
    """A page in headless Chromium with a phone-sized viewport."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield browser.new_context(viewport=PHONE, java_script_enabled=javascript).new_page()
        finally:
            browser.close()
