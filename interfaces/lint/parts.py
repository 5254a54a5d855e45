"""The sources a campaign is linted in (subject, preheader, bodies, the pinned layout) and positions within them.

Positions are 1-based: line 1 is the first line, column 1 its first character (columns count characters,
not bytes; a tab is one column).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.campaign_content import Content
from domain.campaign_workflow import Problem

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Layout:
    """The pinned layout version of a campaign's template, as the linter reads it.

    Not ``interfaces.rendering.Layout``: the renderer imports the composition root, which imports the linter.
    """

    html: str
    text: str | None = None


@dataclass(frozen=True)
class Part:
    """One Liquid source of a message: the field it comes from, whether it is HTML, whether it holds the slot."""

    field: str
    source: str
    html: bool
    layout: bool = False


def parts_of(content: Content, layout: Layout | None) -> list[Part]:
    """Every non-empty source the message is rendered from, in the order a reader meets them."""
    found = [
        Part("subject", content.subject, html=False),
        Part("preheader", content.preheader, html=True),
        Part("html", content.html, html=True),
        Part("text", content.text or "", html=False),
    ]
    if layout is not None:
        found += [Part("template.html", layout.html, html=True, layout=True),
                  Part("template.text", layout.text or "", html=False, layout=True)]  # fmt: skip
    return [p for p in found if p.source]


def line_column(source: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of character ``index`` in ``source`` (clamped into the source)."""
    index = max(0, min(index, len(source)))
    line_start = source.rfind("\n", 0, index) + 1
    return source.count("\n", 0, index) + 1, index - line_start + 1


def problem(code: str, message: str, severity: str, part: Part | str, at: tuple[int, int] | None = None) -> Problem:
    """A problem about ``part`` (a part or a field name), at a line and column when known."""
    field = part if isinstance(part, str) else part.field
    line, column = at if at is not None else (None, None)
    return Problem(code, message, severity, field, line, column)
