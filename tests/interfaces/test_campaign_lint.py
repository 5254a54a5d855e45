"""The campaign linter's checks, each firing and not firing, with positions; and it never crashes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from domain.campaign_workflow import Problem
from interfaces.lint.campaign import lint
from interfaces.lint.html_checks import GMAIL_CLIP_BYTES
from interfaces.lint.parts import Layout

UNSUBSCRIBE = '<a href="{{ unsubscribe_url }}">Unsubscribe</a>'
CLEAN = Content(subject="Hello {{ contact.attributes.first_name | default: 'friend' }}", preheader="Spring news",
                html=f"<p>Hi {{{{ contact.attributes.first_name }}}}</p>{UNSUBSCRIBE}", text="Hi")  # fmt: skip
SETTINGS = CampaignSettings(category="news", esp_connection_id=uuid4(), from_name="Shop",
                            from_address="news@example.com", include_segments=(uuid4(),))  # fmt: skip


def run(content: Content = CLEAN, **options: Any) -> list[Problem]:
    """Lint with a clean default for everything not given."""
    known = options.pop("known", ("first_name", "plan"))
    options.setdefault("layout", None)
    options.setdefault("sending_domains", ("example.com",))
    return lint(content, options.pop("settings", SETTINGS), attribute_exists=lambda name: name in known, **options)


def codes(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.code, p.severity) for p in problems]


def only(problems: list[Problem], code: str) -> Problem:
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, problems
    return found[0]


def test_a_clean_campaign_has_no_problems() -> None:
    assert run() == []


def test_the_required_fields_are_still_checked_and_an_empty_subject_blocks() -> None:
    problems = run(Content(text="t"), settings=CampaignSettings())
    required = [p.field for p in problems if p.code == "required"]
    assert required == ["subject", "html", "category", "esp_connection_id", "from_address", "include_segments"]
    assert all(p.blocking for p in problems if p.code == "required")


@pytest.mark.parametrize(
    ("field", "source", "line", "column"),
    [
        ("subject", "Hi {{ contact.email | }}", 1, 7),
        ("preheader", "{% if %}x{% endif %}", 1, 4),
        ("html", f"{UNSUBSCRIBE}\n<p>\n  {{{{ contact.email ]] }}}}</p>", 3, 20),
        ("text", "line 1\nline 2 {% for x in %}{% endfor %}", 2, 15),
    ],
)
def test_a_liquid_syntax_error_blocks_with_its_line_and_column(field: str, source: str, line: int, column: int) -> None:
    problem = only(run(replace(CLEAN, **{field: source})), "liquid_syntax")
    assert (problem.field, problem.line, problem.column, problem.severity) == (field, line, column, "error")
    assert problem.message.startswith(f"{field}: ")


def test_an_unclosed_block_points_at_where_it_opens() -> None:
    problem = only(run(replace(CLEAN, text="a\n  {% if contact.email %}\nno end")), "liquid_syntax")
    assert (problem.line, problem.column) == (2, 6)
    assert "endif" in problem.message


def test_a_syntax_error_in_the_pinned_layout_names_the_template() -> None:
    layout = Layout("<body>\n{{ content }}\n{% unless %}{% endunless %}</body>", "{{ content }} {{ }")
    problems = [p for p in run(layout=layout) if p.code == "liquid_syntax"]
    assert [(p.field, p.line) for p in problems] == [("template.html", 3), ("template.text", 1)]


def test_a_printed_attribute_no_contact_has_blocks() -> None:
    problem = only(run(replace(CLEAN, text="Hi\n  {{ contact.attributes.nickname }}")), "unknown_attribute")
    assert (problem.severity, problem.field, problem.line, problem.column) == ("error", "text", 2, 6)
    assert "contact.attributes.nickname" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        "{{ contact.attributes.nickname | default: 'you' }}",
        "{% if contact.attributes.nickname %}x{% endif %}",
        "{% unless contact.attributes.nickname == 'a' %}x{% endunless %}",
        "{% case contact.attributes.nickname %}{% when 'a' %}x{% endcase %}",
        "{% assign n = contact.attributes.nickname %}",
    ],
)
def test_an_unknown_attribute_where_a_missing_value_is_allowed_only_warns(text: str) -> None:
    assert codes(run(replace(CLEAN, text=text))) == [("unknown_attribute", "warning")]


@pytest.mark.parametrize(
    "text",
    [
        "{{ contact.attributes.nickname | upcase | default: 'x' }}",  # upcase sees the missing value first
        "{% for x in contact.attributes.nickname %}{{ x }}{% endfor %}",
        "{{ 'a' | append: contact.attributes.nickname }}",
    ],
)
def test_an_unknown_attribute_the_renderer_would_fail_on_blocks(text: str) -> None:
    assert codes(run(replace(CLEAN, text=text))) == [("unknown_attribute", "error")]


def test_one_problem_per_unknown_name_as_strict_as_its_strictest_use() -> None:
    text = "{{ contact.attributes.x | default: 1 }}\n{{ contact.attributes.x }} {{ contact.attributes.x }}"
    problem = only(run(replace(CLEAN, text=text)), "unknown_attribute")
    assert (problem.severity, problem.line, problem.column) == ("error", 2, 4)


def test_known_fields_locals_and_mapping_properties_are_no_problem() -> None:
    text = ("{{ contact.email }} {{ contact.timezone }} {{ contact.locale }} {{ contact.attributes.plan }} "
            "{{ preferences_url }} {% assign a = 1 %}{{ a }} {% for i in (1..3) %}{{ i }}{% endfor %} "
            "{{ contact.attributes.size }} {{ contact.attributes[contact.email] }}")  # fmt: skip
    assert run(replace(CLEAN, text=text)) == []


def test_unknown_variables_and_contact_fields_block() -> None:
    problems = run(replace(CLEAN, text="{{ first_name }} {{ contact.name }} {{ content }}"))
    assert [(p.code, p.message.split(" ")[1]) for p in problems] == [
        ("unknown_variable", "first_name"), ("unknown_variable", "contact.name"), ("unknown_variable", "content"),
    ]  # fmt: skip


def test_the_layout_may_print_its_content_slot() -> None:
    assert run(layout=Layout("<body>{{ content }}</body>", "{{ content }}\n-- {{ contact.email }}")) == []


def test_unknown_filters_and_partials_block() -> None:
    problems = run(replace(CLEAN, text="{{ contact.email | shout }}\n{% include 'footer' %}"))
    assert sorted((p.code, p.line) for p in problems) == [("unknown_filter", 1), ("unsupported_tag", 2)]


def test_no_unsubscribe_link_blocks_unless_the_layout_has_one() -> None:
    content = replace(CLEAN, html="<p>Hi</p>")
    assert codes(run(content)) == [("missing_unsubscribe_link", "error")]
    assert run(content, layout=Layout(f"<body>{{{{ content }}}}{UNSUBSCRIBE}</body>")) == []
    filtered = replace(CLEAN, html="<a href='{{unsubscribe_url | append: \"?x=1\"}}'>u</a>")
    assert run(filtered) == []


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("https://example.com/a?b=c#d", None),
        ("https://example.com/?e={{ contact.email | url_encode }}", None),
        ("{{ preferences_url }}", None),
        ("mailto:help@example.com", None),
        ("tel:+3312345678", None),
        ("#top", None),
        ("http://example.com", ("insecure_link", "warning")),
        ("/relative/path", ("malformed_link", "error")),
        ("example.com", ("malformed_link", "error")),
        ("javascript:alert(1)", ("malformed_link", "error")),
        ("https://", ("malformed_link", "error")),
        ("https://exa mple.com", ("malformed_link", "error")),
        ("https://example.com:port/", ("malformed_link", "error")),
        ("https://[::1/", ("malformed_link", "error")),
        ("", ("malformed_link", "error")),
    ],
)
def test_links_are_absolute_https_urls(href: str, expected: tuple[str, str] | None) -> None:
    html = f'{UNSUBSCRIBE}\n<p>Read <a class="x" href="{href}">more</a></p>'
    problems = run(replace(CLEAN, html=html))
    assert codes(problems) == ([expected] if expected else [])
    if expected:
        assert (problems[0].field, problems[0].line, problems[0].column) == ("html", 2, 9)


def test_links_in_the_layout_are_checked_too() -> None:
    layout = Layout("<body>{{ content }}\n<a href='http://example.com'>site</a></body>")
    problem = only(run(layout=layout), "insecure_link")
    assert (problem.field, problem.line, problem.column) == ("template.html", 2, 1)


def test_an_image_without_alt_warns_and_a_decorative_one_does_not() -> None:
    html = f'{UNSUBSCRIBE}<img src="https://example.com/a.png" alt="">\n <img src="https://example.com/b.png"/>'
    problem = only(run(replace(CLEAN, html=html)), "image_without_alt")
    assert (problem.severity, problem.line, problem.column) == ("warning", 2, 2)
    assert "b.png" in problem.message


def test_html_over_gmails_clipping_size_warns() -> None:
    filler = "<p>" + "x" * 1000 + "</p>\n"
    # css-inline adds the html, head and body elements the renderer's output has too.
    below = UNSUBSCRIBE + "y" * (GMAIL_CLIP_BYTES - 200)
    assert run(replace(CLEAN, html=below)) == []
    assert codes(run(replace(CLEAN, html=below + "é" * 100))) == [("html_too_large", "warning")]  # bytes, not chars
    # Inlining copies the layout's style rule onto every paragraph: 60 KB of source becomes over 102 KB.
    layout = Layout("<html><head><style>p { color: #123456; font-family: Georgia, serif; margin: 0 0 12px 0 }"
                    "</style></head><body>{{ content }}</body></html>")  # fmt: skip
    html = UNSUBSCRIBE + filler * 60
    assert len(html) < GMAIL_CLIP_BYTES
    assert run(replace(CLEAN, html=html)) == []
    html = UNSUBSCRIBE + "<p>x</p>" * 1500
    assert codes(run(replace(CLEAN, html=html), layout=layout)) == [("html_too_large", "warning")]


def test_a_long_subject_warns_counting_its_own_text_only() -> None:
    assert run(replace(CLEAN, subject="s" * 78)) == []
    assert run(replace(CLEAN, subject="s" * 70 + "{{ contact.attributes.first_name | default: 'friend' }}")) == []
    problem = only(run(replace(CLEAN, subject="s" * 79)), "subject_too_long")
    assert (problem.severity, problem.field) == ("warning", "subject")


def test_a_missing_text_part_warns() -> None:
    assert codes(run(replace(CLEAN, text=None))) == [("missing_text_part", "warning")]


@pytest.mark.parametrize(
    ("domains", "address", "expected"),
    [
        (("example.com",), "news@example.com", []),
        (("example.com",), "news@mail.example.com", []),
        (("example.com", "shop.test"), "news@shop.test", []),
        (("example.com",), "news@example.org", [("from_domain_not_allowed", "error")]),
        (("example.com",), "news@notexample.com", [("from_domain_not_allowed", "error")]),
        (("mail.example.com",), "news@example.com", [("from_domain_not_allowed", "error")]),
        ((), "news@example.com", [("no_sending_domains", "warning")]),
        (None, "news@example.com", []),
    ],
)
def test_the_from_domain_belongs_to_the_connections_sending_domains(
    domains: tuple[str, ...] | None, address: str, expected: list[tuple[str, str]]
) -> None:
    problems = run(settings=replace(SETTINGS, from_address=address), sending_domains=domains)
    assert codes(problems) == expected
    assert all(p.field in ("from_address", "esp_connection_id") for p in problems)


FRAGMENTS = [
    "{{", "}}", "{%", "%}", "{{ contact.email }}", "{{ contact.attributes.x | default: 1 }}", "{% if a %}",
    "{% endif %}", "{% for i in contact.attributes.l %}", "{% endfor %}", "{% elsif", "{% when", "|", ":",
    "<a href='", "<a href=\"http://", "'>", "\">", "<img src=x>", "</a>", "<", ">", "\n", " ", "x", "'", '"',
    "{% liquid\n", "{% comment %}", "{% raw %}", "{% endraw %}", "[", "]", "..", "(1..", "\x00", "é", "\ud800",
    "{{ unsubscribe_url }}", "https://[", "{% case", "{% assign", "=", "{% capture c %}", "{{ content }}",
]  # fmt: skip
LIQUID_HTML = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(sources=st.lists(st.one_of(st.text(max_size=200), LIQUID_HTML), min_size=6, max_size=6),
       domains=st.one_of(st.none(), st.lists(st.sampled_from(["example.com", "a.test"]), max_size=2)))  # fmt: skip
def test_the_linter_never_crashes(sources: list[str], domains: list[str] | None) -> None:
    subject, preheader, html, text, layout_html, layout_text = sources
    content = Content(subject=subject, preheader=preheader, html=html, text=text or None)
    problems = run(content, layout=Layout(layout_html, layout_text or None), sending_domains=domains)
    assert all(isinstance(p, Problem) and p.severity in ("error", "warning") for p in problems)
    assert all(p.line is None or (p.line >= 1 and p.column is not None and p.column >= 1) for p in problems)


def test_deeply_nested_html_is_measured_without_crashing_the_inliner() -> None:
    # css-inline overflows its stack (SIGSEGV, the whole process) on nesting this deep.
    problems = run(replace(CLEAN, html=UNSUBSCRIBE + "<div>" * 20_000))
    assert codes(problems) == []
    assert codes(run(replace(CLEAN, html=UNSUBSCRIBE + "<div>" * 30_000))) == [("html_too_large", "warning")]
