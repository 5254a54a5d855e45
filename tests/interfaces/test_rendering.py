"""Rendering a content version for a contact: Liquid variables and defaults, dates in the contact's zone and locale,
the layout slot, inlined CSS, the text part and the List-Unsubscribe headers; any contact data renders or fails
with a RenderError."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from domain.link_tokens import LinkKeys, Purpose
from interfaces.link_keys import Links
from interfaces.rendering import Layout, Recipient, RenderError, render

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CONTACT = UUID("7d9a4e47-8c41-4f6b-9a53-1e0f8f0b6c11")
LINKS = Links(LinkKeys("secret", ["k1"]), "https://mail.example.com")
SETTINGS = CampaignSettings(category="news", from_name="Tidings News", from_address="news@example.com")
ANN = Recipient(CONTACT, "ann@example.com", {"first_name": "Ann", "vip": True}, "Europe/Paris", "fr-FR")
LAYOUT = Layout(
    "<html><head><style>p { color: #c00 } .foot { font-size: 11px }</style></head>"
    "<body>{{ content }}<p class='foot'><a href='{{ unsubscribe_url }}'>Unsubscribe</a></p></body></html>",
    "{{ content }}\n--\nUnsubscribe: {{ unsubscribe_url }}",
)
NEWSLETTER = Content(
    subject="Hello {{ contact.attributes.first_name | default: 'friend' }}",
    preheader="News for {{ contact.email }}",
    html=(
        "<p>Dear {{ contact.attributes.first_name | default: 'reader' }},</p>"
        "{% if contact.attributes.vip %}<p>Thank you for being a VIP.</p>{% endif %}"
        "{% if contact.attributes.gold %}<p>GOLD</p>{% endif %}"
        "<p>Event: {{ '2026-12-24T18:30:00Z' | date: '%d/%m %H:%M' }}</p>"
        "<a href='{{ preferences_url }}'>Preferences</a>"
    ),
)


def _render(content: Content = NEWSLETTER, recipient: Recipient = ANN, layout: Layout | None = LAYOUT) -> Any:
    return render(content, layout, recipient, settings=SETTINGS, links=LINKS, now=NOW)


def test_contact_fields_defaults_conditions_and_the_layout_slot() -> None:
    out = _render()
    assert out.subject == "Hello Ann"
    assert "Dear Ann," in out.html
    assert "Thank you for being a VIP." in out.html
    assert "GOLD" not in out.html  # a missing attribute is false in a condition
    assert out.html.count("Unsubscribe") == 1 and "Dear Ann" in out.html.split("Unsubscribe")[0]
    assert "News for ann@example.com" in out.html  # the preheader, hidden at the top of the body
    bob = _render(recipient=Recipient(CONTACT, "bob@example.com"))
    assert bob.subject == "Hello friend" and "Dear reader," in bob.html and "VIP" not in bob.html


def test_a_variable_without_value_or_default_is_a_render_error_naming_it() -> None:
    content = Content(subject="Hi", html="<p>{{ contact.attributes.nickname }}</p>")
    with pytest.raises(RenderError) as caught:
        _render(content)
    assert caught.value.code == "render_error"
    assert caught.value.details == {"part": "html", "variable": "contact.attributes.nickname"}
    assert "contact.attributes.nickname" in caught.value.message


def test_a_liquid_syntax_error_is_a_render_error_naming_the_part() -> None:
    with pytest.raises(RenderError) as caught:
        _render(Content(subject="{% if %}", html="<p>x</p>"))
    assert caught.value.details["part"] == "subject"


def test_dates_show_in_the_contacts_time_zone_and_locale() -> None:
    content = Content(
        subject="s", text="{{ '2026-12-24T18:30:00Z' | date: '%H:%M' }} / {{ '2026-12-24' | date: 'long' }}"
    )
    paris = _render(content, layout=None).text
    assert paris.startswith("19:30 / 24 décembre 2026")
    tokyo = _render(content, Recipient(CONTACT, "t@example.com", {}, "Asia/Tokyo", "en-US"), None).text
    assert tokyo.startswith("03:30 / December 24, 2026")
    utc = _render(content, Recipient(CONTACT, "u@example.com"), None).text
    assert utc.startswith("18:30 / ")


def test_variables_are_escaped_in_html_but_not_in_subject_or_text() -> None:
    evil = Recipient(CONTACT, "e@example.com", {"first_name": "<script>x</script>"})
    name = "{{ contact.attributes.first_name }}"
    out = _render(Content(subject=name, html=f"<p>{name}</p>", text=name), evil)
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert out.subject == "<script>x</script>" and out.text.startswith("<script>x</script>")


def test_css_is_inlined_and_no_style_element_is_left() -> None:
    out = _render()
    assert "<style" not in out.html
    assert re.search(r'<p[^>]*style="[^"]*color: #c00', out.html)


def test_the_text_part_is_the_own_text_in_the_text_layout_or_else_read_from_the_html() -> None:
    own = _render(Content(subject="s", html="<p>x</p>", text="Hi {{ contact.attributes.first_name }}"))
    assert own.text.startswith("Hi Ann\n--\nUnsubscribe: https://mail.example.com/u/")
    derived = _render()
    assert "Dear Ann," in derived.text and "<p>" not in derived.text
    assert "https://mail.example.com/preferences/" in derived.text  # links survive, unbroken


def test_headers_carry_from_and_a_verifiable_one_click_unsubscribe() -> None:
    out = _render()
    assert out.headers["From"] == "Tidings News <news@example.com>"
    assert out.headers["To"] == "ann@example.com"
    assert out.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = re.fullmatch(r"<https://mail\.example\.com/u/([^>]+)>", out.headers["List-Unsubscribe"])
    assert token is not None
    claims = LINKS.keys.verify(token[1], Purpose.UNSUBSCRIBE, NOW)
    assert claims.contact_id == CONTACT and claims.category == "news"


def test_a_subject_never_carries_a_line_break_from_contact_data() -> None:
    out = _render(Content(subject="Hi {{ contact.attributes.n }}", html="x"),
                  Recipient(CONTACT, "a@example.com", {"n": "A\r\nBcc: x@evil.example"}))  # fmt: skip
    assert "\n" not in out.subject and "\r" not in out.subject


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)


_values = st.one_of(
    st.text(max_size=30), st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), st.sampled_from(["2026-01-02", "2026-01-02T03:04:05+02:00", "now", "not a date"]),
)  # fmt: skip
_names = st.sampled_from(["first_name", "city", "vip", "joined", "score", "x"])
_recipients = st.builds(
    Recipient,
    id=st.uuids(),
    email=st.emails(),
    attributes=st.dictionaries(_names, _values, max_size=6),
    timezone=st.sampled_from([None, "UTC", "Europe/Paris", "America/St_Johns", "Pacific/Kiritimati"]),
    locale=st.sampled_from([None, "en", "fr-FR", "zh-Hant-TW", "ar", "x-private", "qq-ZZ"]),
)
_snippets = st.sampled_from([
    "{{ contact.attributes.first_name }}", "{{ contact.attributes.city | default: 'nowhere' }}",
    "{% if contact.attributes.vip %}<b>vip</b>{% else %}<i>no</i>{% endif %}",
    "{{ contact.attributes.joined | date: 'long' }}", "{{ contact.attributes.score | plus: 1 }}",
    "{{ contact.attributes.x | upcase }}", "{{ contact.email | split: '@' | last }}",
    "{% for c in contact.attributes.first_name | split: '' %}{{ c }}{% endfor %}",
    "{{ contact.attributes.score | date: '%Y' }}", "<p style='x'>{{ contact.locale | default: 'en' }}</p>",
])  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_recipients, st.lists(_snippets, min_size=1, max_size=4))
def test_any_contact_data_renders_or_fails_with_a_render_error(recipient: Recipient, snippets: list[str]) -> None:
    content = Content(subject="s " + snippets[0], html="".join(f"<div>{s}</div>" for s in snippets))
    try:
        out = render(content, LAYOUT, recipient, settings=SETTINGS, links=LINKS, now=NOW)
    except RenderError as exc:
        assert exc.details["part"] in {"subject", "html", "layout"} and exc.message
        return
    assert "<style" not in out.html
    parser = _Tags()
    parser.feed(out.html)
    assert parser.tags[:3] == ["html", "head", "body"]  # a whole document, the layout around the content
    assert "\n" not in out.subject and out.text.endswith("\n")
