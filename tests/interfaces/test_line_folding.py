"""Folding long HTML lines between attributes: every parser still reads the same document, and lines get short."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from itertools import pairwise
from typing import Any
from uuid import UUID

from hypothesis import example, given
from hypothesis import strategies as st

from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from domain.link_tokens import LinkKeys
from interfaces.link_keys import Links
from interfaces.rendering import Layout, Recipient, compile_content
from interfaces.rendering.line_folding import break_points, fold
from tests.transports.messages import message


class _Events(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[Any] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("<", tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("</>", tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        self.events.append((">", tag))

    def handle_data(self, data: str) -> None:
        self.events.append(("t", data))

    def handle_comment(self, data: str) -> None:
        self.events.append(("!", data))


_words = st.text(st.sampled_from("ab c<>=\"'/-é\n"), max_size=12)
_value = st.one_of(
    _words.map(lambda v: '"' + v.replace('"', "&quot;") + '"'),
    _words.map(lambda v: "'" + v.replace("'", "&#39;") + "'"),
    st.text(st.sampled_from("abc123-_.:#%"), min_size=1, max_size=8),
)
_attribute = st.tuples(
    st.sampled_from(["href", "style", "class", "data-x", "alt", "width"]), st.one_of(st.none(), _value)
)
_tag = st.builds(
    lambda name, attrs, closing: f"<{name}" + "".join(f" {a}" + (f"={v}" if v else "") for a, v in attrs)
    + (" />" if closing else ">"),
    st.sampled_from(["td", "a", "img", "p", "table", "span"]),
    st.lists(_attribute, max_size=8), st.booleans(),
)  # fmt: skip
_raw = st.builds(lambda name, body: f"<{name}>{body}</{name}>", st.sampled_from(["style", "script"]),
                 st.just('a <b c="d" e="f"> g') | _words)  # fmt: skip
_piece = st.one_of(_tag, _words, _raw, _words.map(lambda w: f"<!-- {w.replace('-', '')} <a b c> -->"),
                   st.sampled_from(["</td>", "</a>", "<br>", "\n", "</", "<!", "<?", "<!DOCTYPE html>"]),
                   _tag.map(lambda t: "</" + t[1:]))  # fmt: skip
_documents = st.lists(_piece, max_size=60).map("".join)


@given(_documents, st.integers(min_value=20, max_value=200))
@example("</<td href href href href href>", 20)  # "</" then not a letter: a comment up to ">", found in CI
def test_a_folded_document_is_the_same_document(html: str, limit: int) -> None:
    folded = fold(html, limit)
    assert len(folded) == len(html)
    assert all(a == b or (a, b) == (" ", "\n") for a, b in zip(html, folded, strict=True))
    assert _Events(folded).events == _Events(html).events


@given(st.lists(st.tuples(st.sampled_from(["td", "a", "div"]), st.lists(_attribute, min_size=2, max_size=6)),
                min_size=30, max_size=60))  # fmt: skip
def test_long_lines_of_tags_come_down_to_the_limit(tags: list[tuple[str, list[tuple[str, str | None]]]]) -> None:
    html = "".join(f"<{n}" + "".join(f" {a}" + (f"={v}" if v else "") for a, v in attrs) + ">x" for n, attrs in tags)
    folded = fold(html, 100)
    # A quoted value may hold spaces, so the unbreakable stretch is the one between two break points.
    edges = [0, *break_points(html), len(html)]
    longest_unbreakable = max(b - a for a, b in pairwise(edges))
    assert max(len(line) for line in folded.split("\n")) <= 100 + longest_unbreakable
    assert folded.count("\n") > html.count("\n")


def test_a_minified_newsletter_goes_as_8bit_html() -> None:
    cells = "".join(
        f"<td class='c' width='{i}' align='left'><a href='https://example.com/{i}' title='t{i}'>Item {i}</a></td>"
        for i in range(60)
    )
    layout = Layout("<html><head><style>.c { padding: 4px; color: #333; font-family: Arial }</style></head><body>"
                    "<table><tr>{{ content }}</tr></table></body></html>")  # fmt: skip
    content = Content(subject="s", html=cells + "<td>{{ contact.email }}</td>")
    rendered = compile_content(content, layout).render(
        Recipient(UUID(int=1), "ann@example.com", {}), settings=CampaignSettings(category="news"),
        links=Links(LinkKeys("k", ["k1"]), "https://mail.example.com"), now=datetime(2026, 11, 28, tzinfo=UTC),
    )  # fmt: skip
    assert len(rendered.html) > 2000 and "\n" not in content.html
    assert max(len(line.encode()) for line in rendered.html.split("\n")) <= 998
    raw = replace(message(), html=rendered.html).wire(cte_type="8bit")
    html_part = raw.split(b'Content-Type: text/html; charset="utf-8"\r\n', 1)[1]
    assert html_part.startswith(b"Content-Transfer-Encoding: 8bit")
