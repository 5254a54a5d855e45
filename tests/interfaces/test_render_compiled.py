"""Compiled content: CSS inlined once on the Liquid source and the text part read once give the reference path's
message (same HTML tree, same text), and each version the once-path cannot carry falls back to it, still right."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from domain.link_tokens import LinkKeys
from interfaces.link_keys import Links
from interfaces.rendering import CompiledContent, Layout, Recipient, Rendered, RenderError, compile_content

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LINKS = Links(LinkKeys("secret", ["k1"]), "https://mail.example.com")
SETTINGS = CampaignSettings(category="news", from_name="News", from_address="news@example.com")
ANN = Recipient(UUID(int=1), "ann@example.com", {"first_name": "Ann", "vip": True, "color": "teal"}, "Asia/Tokyo")
BOB = Recipient(UUID(int=2), "bob@example.com", {"first_name": "<b>Bob & 'Co'</b>"})
STYLE = "p { color: #c00 } td { padding: 4px } .foot { font-size: 11px } a { color: #06c } img { border: 0 }"
LAYOUT = Layout(
    f"<!DOCTYPE html><html><head><title>{{{{ contact.email }}}}</title><style>{STYLE}</style></head><body>"
    "<table><tbody><tr><td>{{ content }}</td></tr></tbody></table>"
    "<p class='foot'><a href='{{ unsubscribe_url }}'>Unsubscribe</a> · <a href='{{ preferences_url }}'>Pre</a></p>"
    "</body></html>"
)


class _Tree(HTMLParser):
    # The document as a browser reads it: tags with attributes, text with whitespace collapsed, comments.
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[Any, ...]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("<", tag, sorted((k, " ".join((v or "").split())) for k, v in attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.events.append((">", tag))

    def handle_data(self, data: str) -> None:
        text = " ".join(data.replace("\r", "\n").split())
        if text and self.events and self.events[-1][0] == "t":
            self.events[-1] = ("t", f"{self.events[-1][1]} {text}")
        elif text:
            self.events.append(("t", text))

    def handle_comment(self, data: str) -> None:
        self.events.append(("!", data))


def _reference(compiled: CompiledContent) -> CompiledContent:
    return dataclasses.replace(compiled, html=None, text=None, html_fallback="reference", text_fallback="reference")


def _both(content: Content, layout: Layout | None, recipient: Recipient) -> tuple[Any, Any]:
    compiled = compile_content(content, layout)
    outcomes = []
    for version in (compiled, _reference(compiled)):
        try:
            outcomes.append(version.render(recipient, settings=SETTINGS, links=LINKS, now=NOW))
        except RenderError as exc:
            outcomes.append((exc.message, exc.details))
    return outcomes[0], outcomes[1]


def _words(text: str) -> str:
    # html2text escapes values the once-path shows as they are, and draws table rules by row position.
    # Wrapping differs too (decided on placeholders), so compare the characters, not the spacing; and a link
    # title the value leaves blank still shows, as "" (html2text omits a title that is blank in the HTML).
    return "".join(w for w in text.replace("\\", "").replace("|", " ").split() if w.strip("-")).replace('""', "")


def _same(fast: Rendered, slow: Rendered) -> None:
    assert _Tree(fast.html).events == _Tree(slow.html).events
    assert _words(fast.text) == _words(slow.text)
    assert (fast.subject, fast.headers) == (slow.subject, slow.headers)


def test_liquid_survives_inlining_in_text_attributes_title_and_tables() -> None:
    content = Content(
        subject="Hi",
        preheader="For {{ contact.email }}",
        html="<p>Dear {{ contact.attributes.first_name | default: 'reader' }},</p>"
        "<table><tbody>{% if contact.attributes.vip %}<tr><td>VIP row</td></tr>{% endif %}"
        "{% for n in (1..2) %}<tr><td>row {{ n }}</td></tr>{% endfor %}</tbody></table>"
        "<a href='https://shop.example/?who={{ contact.email | url_encode }}&amp;x=1'>Shop</a>"
        "<img src='https://img.example/a.png' alt='Hello {{ contact.attributes.first_name | default: \"you\" }}'>",
    )
    compiled = compile_content(content, LAYOUT)
    assert (compiled.html_fallback, compiled.text_fallback) == (None, None)
    for recipient in (ANN, BOB, Recipient(UUID(int=3), "cy@example.com")):
        fast, slow = _both(content, LAYOUT, recipient)
        _same(fast, slow)
    ann = compiled.render(ANN, settings=SETTINGS, links=LINKS, now=NOW)
    assert '<td style="padding: 4px;">VIP row</td>' in ann.html and "row 2" in ann.html
    assert "who=ann%40example.com&amp;x=1" in ann.html and 'alt="Hello Ann"' in ann.html
    assert "<title>ann@example.com</title>" in ann.html and "<style" not in ann.html and "{{" not in ann.html


def test_the_text_part_read_once_shows_values_as_they_are_and_keeps_the_links() -> None:
    content = Content(subject="s", html="<p>Hi {{ contact.attributes.first_name }}</p><p>- {{ contact.email }}</p>")
    compiled = compile_content(content, LAYOUT)
    assert compiled.text is not None
    bob = compiled.render(BOB, settings=SETTINGS, links=LINKS, now=NOW)
    assert "Hi <b>Bob & 'Co'</b>" in bob.text  # html2text never saw the value, so never escaped it
    assert "- bob@example.com" in bob.text and "&lt;" not in bob.text
    assert f"[Unsubscribe]({bob.headers['List-Unsubscribe'][1:-1]})" in bob.text


FALLBACKS = {
    "liquid in <style>": (
        Layout("<html><head><style>p { color: {{ contact.attributes.color | default: 'red' }} }</style></head>"
               "<body>{{ content }}</body></html>"),
        "<p>Hi</p>", "in <style>", 'style="color: teal;"',
    ),
    "liquid in class": (LAYOUT, "<p class='{{ contact.attributes.color }}'>x</p>", "class attribute", 'class="teal"'),
    "sibling selector around a block": (
        Layout("<html><head><style>p + p { color: red }</style></head><body>{{ content }}</body></html>"),
        "<p>a</p>{% if contact.attributes.vip %}<p>vip</p>{% endif %}", "siblings", '<p style="color: red;">vip',
    ),
    "a block that is not whole elements": (
        LAYOUT, "<p>a{% if contact.attributes.vip %}<div>b</div>{% endif %}c", "not whole elements", "b</div>",
    ),
    "rows in a table without tbody": (
        LAYOUT, "<table>{% if contact.attributes.vip %}<tr><td>v</td></tr>{% endif %}</table>", "", "padding: 4px",
    ),
    "markup printed by liquid": (LAYOUT, "{{ '<p>lit</p>' }}", "markup made by Liquid", '<p style="color: #c00;">lit'),
    "braces from entities": (LAYOUT, "<p>&#123;&#123; 1 }}</p>", "braces", "<p style=\"color: #c00;\">{{ 1 }}</p>"),
}  # fmt: skip


@pytest.mark.parametrize("case", FALLBACKS)
def test_what_cannot_be_inlined_once_is_inlined_per_recipient_and_still_right(case: str) -> None:
    layout, html, reason, expected = FALLBACKS[case]
    content = Content(subject="s", html=html)
    compiled = compile_content(content, layout)
    assert compiled.html_fallback is not None and reason in compiled.html_fallback
    fast, slow = _both(content, layout, ANN)
    assert fast.html == slow.html and expected in fast.html
    _same(fast, slow)  # the text part may still be read once: html2text ignores styles


def test_a_render_error_on_the_fast_path_is_the_reference_error() -> None:
    content = Content(subject="s", preheader="{{ contact.attributes.gone }}", html="<p>{{ contact.email.x }}</p>")
    assert compile_content(content, LAYOUT).html_fallback is None
    fast, slow = _both(content, LAYOUT, ANN)
    assert fast == slow and fast[1] == {"part": "html", "variable": "contact.email.x"}


_values = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20),
    st.sampled_from(["<b>x</b>", "a & b", "'quoted' \"double\"", "{{ not liquid }}", "- dash", "*star*", "   "]),
    st.integers(-1000, 1000), st.booleans(),
)  # fmt: skip
_recipients = st.builds(
    Recipient, id=st.uuids(), email=st.emails(),
    attributes=st.dictionaries(st.sampled_from(["first_name", "vip", "city", "n"]), _values, max_size=4),
    timezone=st.sampled_from([None, "Europe/Paris", "Asia/Tokyo"]), locale=st.sampled_from([None, "fr-FR", "de"]),
)  # fmt: skip
_blocks = st.sampled_from([
    "<p>Dear {{ contact.attributes.first_name | default: 'reader' }},</p>",
    "{% if contact.attributes.vip %}<p class='vip'>VIP</p>{% else %}<div>regular</div>{% endif %}",
    "<table><tbody>{% for i in (1..3) %}<tr><td>{{ i }} {{ contact.attributes.city | default: '?' }}</td></tr>"
    "{% endfor %}</tbody></table>",
    "<a href='{{ preferences_url }}' title='{{ contact.attributes.city | default: \"x\" }}'>prefs</a>",
    "<img src='https://i.example/{{ contact.attributes.n | default: 0 }}.png' alt='{{ contact.email }}'>",
    "<ul>{% unless contact.attributes.vip %}<li>not vip</li>{% endunless %}<li>{{ contact.attributes.n | plus: 1 }}"
    "</li></ul>",
    "{% assign who = contact.attributes.first_name | default: 'you' %}<h2>For {{ who | upcase }}</h2>",
    "<p>{{ '2026-12-24T18:30:00Z' | date: 'long' }} {{ contact.attributes.n | date: '%Y' }}</p>",
    "<!--[if mso]><p>{{ contact.email }}</p><![endif]--><p>text &amp; &nbsp; more</p>",
    "{% case contact.attributes.city %}{% when 'Paris' %}<p>Bonjour</p>{% else %}<p>Hello</p>{% endcase %}",
    "<p>{{- contact.attributes.first_name | default: 'trim' -}}</p>\n  ",
])  # fmt: skip
_STYLED = Layout("<html><head><style>h2 { margin: 0 } .vip { color: gold } li { x: y }</style></head>"
                 "<body><div>{{ content }}</div></body></html>")  # fmt: skip
_SCOPED = Layout("<html><body>{% assign year = '2026-01-01' | date: '%Y' %}<div>\n {{- content -}} \n</div>"
                 "<p>© {{ year }}</p></body></html>")  # fmt: skip
_GUARDED = Layout("<html><head><style>p { margin: 0 }</style></head><body>{% if contact.email %}<div>{{ content }}"
                  "</div>{% endif %}</body></html>")  # fmt: skip
_layouts = st.sampled_from([None, LAYOUT, _STYLED, _SCOPED, _GUARDED])
_preheaders = st.sampled_from(["", "Hi {{ contact.email }}"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_blocks, min_size=1, max_size=6), _preheaders, _layouts, _recipients)
def test_the_compiled_message_is_the_reference_message(
    blocks: list[str], preheader: str, layout: Layout | None, recipient: Recipient
) -> None:
    content = Content(subject="Hi {{ contact.attributes.first_name | default: 'x' }}", preheader=preheader,
                      html="".join(blocks))  # fmt: skip
    compiled = compile_content(content, layout)
    assert compiled.html_fallback is None  # every block above inlines once
    event("one scope" if compiled.html and compiled.html.whole else "parts apart")
    fast, slow = _both(content, layout, recipient)
    if isinstance(slow, tuple):
        assert fast == slow
        return
    assert isinstance(fast, Rendered)
    _same(fast, slow)
    name = recipient.attributes.get("first_name")
    if isinstance(name, str) and name.strip() and "<p>Dear" in content.html:
        assert " ".join(name.split()) in " ".join(fast.text.split())


@pytest.mark.parametrize(
    "html",
    [
        "<p>{% for i in (1..9000) %}{{ contact.email | append: '" + "x" * 1000 + "' }}{% endfor %}</p>",  # inlined once
        "{% assign x = 'abc' %}{% for i in (1..30) %}{% capture x %}{{ x }}{{ x }}{% endcapture %}{% endfor %}{{ x }}",
    ],
)
def test_the_sandbox_bounds_output_on_either_path(html: str) -> None:
    content = Content(subject="s", html=html)
    fast, slow = _both(content, LAYOUT, ANN)
    assert fast == slow and isinstance(fast, tuple) and "limit reached" in fast[0]


_risky = st.sampled_from([
    "<p class='{{ contact.attributes.city | default: \"c\" }}'>classed</p>",
    "<table>{% if contact.attributes.vip %}<tr><td>bare row</td></tr>{% endif %}</table>",
    "<table><tbody><tr><td>a</td></tr>{% if contact.attributes.vip %}moved{% endif %}</tbody></table>",
    "<p>open{% if contact.attributes.vip %}<div>d</div>{% endif %}tail",
    "{{ '<i>lit</i>' }}", "<p>&#123;&#123; 1 }}</p>", "{% raw %}<b>{{ raw }}</b>{% endraw %}",
    "{% capture c %}<b>{{ contact.email }}</b>{% endcapture %}{{ c }}",
    "<style>b { color: {{ contact.attributes.city | default: 'red' }} }</style><b>styled</b>",
    "{% if contact.attributes.vip %}<style>p { color: gold }</style>{% endif %}",
    "<p>{{ contact.attributes.first_name | default: 'x' | newline_to_br }}</p>",
    "<a {% if contact.attributes.vip %}href='https://v.example'{% endif %}>link</a>",
])  # fmt: skip
_SIBLINGS = Layout("<html><head><style>p + p { color: red } li:first-child { margin: 0 } [title] { x: y }</style>"
                   "</head><body>{{ content }}</body></html>")  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_blocks, _risky), min_size=1, max_size=5), st.sampled_from([None, LAYOUT, _SIBLINGS]),
       _recipients)  # fmt: skip
def test_whatever_the_content_the_compiled_message_is_the_reference_message(
    blocks: list[str], layout: Layout | None, recipient: Recipient
) -> None:
    content = Content(subject="s", html="".join(blocks))
    event("inlined once" if compile_content(content, layout).html_fallback is None else "inlined per recipient")
    fast, slow = _both(content, layout, recipient)
    if isinstance(slow, tuple) or isinstance(fast, tuple):
        assert fast == slow
    else:
        _same(fast, slow)


def test_a_version_inlined_per_recipient_still_reads_its_text_once() -> None:
    layout = Layout("<html><head><style>p { color: {{ contact.attributes.color | default: 'red' }} }</style></head>"
                    "<body>{{ content }}<a href='{{ unsubscribe_url }}'>Unsubscribe</a></body></html>")  # fmt: skip
    content = Content(subject="s", html="<p>Hi {{ contact.attributes.first_name }}</p>")
    compiled = compile_content(content, layout)
    assert compiled.html is None and compiled.text is not None and compiled.text_fallback is None
    bob = compiled.render(BOB, settings=SETTINGS, links=LINKS, now=NOW)
    assert bob.text.startswith("Hi <b>Bob & 'Co'</b>") and 'style="color: red;"' in bob.html
    assert f"[Unsubscribe]({bob.headers['List-Unsubscribe'][1:-1]})" in bob.text


def test_parts_share_one_scope_only_where_no_part_could_see_another() -> None:
    plain = compile_content(Content(subject="s", preheader="Hi {{ contact.email }}", html=_BLOCKS_PLAIN), LAYOUT)
    assert plain.html is not None and plain.html.whole is not None
    assert plain.text is not None and plain.text.whole is not None
    fast, slow = _both(plain.content, LAYOUT, ANN)
    _same(fast, slow)

    # The content's assign must not reach the layout, as it cannot when they are rendered apart.
    leaky = Layout("<html><body><div>{{ content }}</div><p>{{ who | default: 'nobody' }}</p></body></html>")
    content = Content(subject="s", html="{% assign who = 'content' %}<p>{{ who }}</p>")
    compiled = compile_content(content, leaky)
    assert compiled.html is not None and compiled.html.whole is None
    rendered = compiled.render(ANN, settings=SETTINGS, links=LINKS, now=NOW)
    assert "<p>nobody</p>" in rendered.html and "<p>content</p>" in rendered.html


_BLOCKS_PLAIN = (
    "<p>Dear {{ contact.attributes.first_name | default: 'reader' }},</p>"
    "{% if contact.attributes.vip %}<p class='vip'>VIP</p>{% else %}<div>regular</div>{% endif %}"
    "<a href='{{ preferences_url }}'>prefs</a>"
)
