"""Deeply nested HTML is refused with a RenderError instead of crashing the process in css-inline.

Each case runs in a child process: were the guard to fail, css-inline's stack overflow would kill the
child, and the test reports it, rather than taking the whole test run down.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interfaces.rendering.nesting import MAX_DEPTH, nesting_depth

SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from uuid import uuid4
    from domain.campaign_content import Content
    from domain.campaign_settings import CampaignSettings
    from interfaces.link_keys import Links
    from interfaces.rendering import Recipient, RenderError, render
    from domain.link_tokens import LinkKeys

    html = sys.stdin.read()
    links = Links(LinkKeys("a-secret-key-for-tests-only-0123456789", ("k1",)), "https://t.example")
    try:
        render(Content(subject="s", html=html), None, Recipient(uuid4(), "a@example.com"),
               settings=CampaignSettings(), links=links, now=datetime.now(UTC))
    except RenderError as exc:
        print("refused", exc.details.get("depth"))
    else:
        print("rendered")
    """
)


def _render_in_child(html: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], check=False, input=html, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"the child died ({done.returncode}): {done.stderr[-2000:]}"
    return done.stdout.strip()


@pytest.mark.parametrize(
    "html",
    ["<div>" * 30_000 + "x", "<table><tr><td>" * 5_000, "{% for i in (1..3000) %}<div>{% endfor %}<p>x</p>"],
    ids=["unclosed-divs", "nested-tables", "liquid-loop"],
)
def test_deep_nesting_is_refused_not_a_crash(html: str) -> None:
    assert _render_in_child(html).startswith("refused")


def test_ordinary_nesting_renders() -> None:
    assert _render_in_child("<div>" * 40 + "<p>hello</p>" + "</div>" * 40) == "rendered"


@given(st.integers(min_value=0, max_value=2 * MAX_DEPTH), st.sampled_from(["div", "TD", "span"]))
def test_depth_counts_open_elements_and_ignores_void_and_closed_ones(depth: int, name: str) -> None:
    html = f"<{name} class='x'>" * depth + "<br><img src='a'/><hr/>" + f"</{name}>" * depth + "<p>after</p>"
    assert nesting_depth(html) == max(depth, 1)
