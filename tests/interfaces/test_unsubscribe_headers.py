"""List-Unsubscribe headers: an HTTPS one-click link and a mailto, both carrying a token that verifies."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit
from uuid import UUID

import pytest

from domain.link_tokens import LinkKeys, Purpose
from interfaces.bootstrap import build
from interfaces.config import Settings
from interfaces.link_keys import Links, links_of
from interfaces.unsubscribe_headers import message_unsubscribe_headers, unsubscribe_headers

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CONTACT = UUID("7d9a4e47-8c41-4f6b-9a53-1e0f8f0b6c11")
LINKS = Links(LinkKeys("secret", ["k1"]), "https://mail.example.com")
TARGETS = re.compile(r"<([^<>]+)>")


def _targets(headers: dict[str, str]) -> list[str]:
    return TARGETS.findall(headers["List-Unsubscribe"])


def test_an_https_deployment_announces_one_click_with_a_verifiable_link() -> None:
    headers = unsubscribe_headers(LINKS, CONTACT, "news", NOW)

    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    [url] = _targets(headers)
    assert url.startswith("https://mail.example.com/u/")
    claims = LINKS.keys.verify(url.rsplit("/", 1)[1], Purpose.UNSUBSCRIBE, NOW)
    assert (claims.contact_id, claims.category) == (CONTACT, "news")


def test_without_a_category_the_link_unsubscribes_from_everything() -> None:
    [url] = _targets(unsubscribe_headers(LINKS, CONTACT, None, NOW))

    assert LINKS.keys.verify(url.rsplit("/", 1)[1], Purpose.UNSUBSCRIBE, NOW).category is None


def test_the_mailto_carries_the_same_kind_of_token_in_its_subject() -> None:
    headers = unsubscribe_headers(LINKS, CONTACT, "news", NOW, mailto="unsubscribe@bounce.example.com")

    https, mailto = _targets(headers)
    assert headers["List-Unsubscribe"] == f"<{https}>, <{mailto}>"
    parts = urlsplit(mailto)
    assert (parts.scheme, parts.path) == ("mailto", "unsubscribe@bounce.example.com")
    word, token = unquote(parts.query.removeprefix("subject=")).split(" ")
    assert word == "unsubscribe"
    assert LINKS.keys.verify(token, Purpose.UNSUBSCRIBE, NOW).category == "news"


def test_plain_http_gets_no_one_click_header() -> None:
    headers = unsubscribe_headers(Links(LINKS.keys, "http://127.0.0.1:8000"), CONTACT, None, NOW)

    assert "List-Unsubscribe-Post" not in headers
    assert _targets(headers)[0].startswith("http://127.0.0.1:8000/u/")


@pytest.mark.parametrize("mailto", [None, "unsubscribe@example.org"])
def test_the_deployments_headers_use_its_settings(settings: Settings, mailto: str | None) -> None:
    container = build(replace(settings, public_url="https://t.example", unsubscribe_mailto=mailto))
    try:
        headers = message_unsubscribe_headers(container, CONTACT, None, NOW)
    finally:
        container.close()

    targets = _targets(headers)
    assert len(targets) == (2 if mailto else 1)
    assert targets[0].startswith("https://t.example/u/")
    assert links_of(container).keys.verify(targets[0].rsplit("/", 1)[1], Purpose.UNSUBSCRIBE, NOW)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
