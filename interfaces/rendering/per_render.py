"""The reference path: every part rendered, then the whole HTML inlined and read as text, for each recipient.

Compiled content falls back to it for a version whose CSS cannot be inlined once (see ``inline_once``), and
re-runs it to report a render error exactly as it always has. Its output is what the fast path must equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import css_inline
import html2text
from liquid import Markup

from domain.campaign_content import Content
from interfaces.rendering.liquid import render_part
from interfaces.rendering.message import Layout, RenderError
from interfaces.rendering.nesting import check_nesting

PREHEADER = '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all" aria-hidden="true">{}</div>'
INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_link_tags=False)


def inline(html: str) -> str:
    """``html`` with its ``<style>`` rules moved into ``style`` attributes, or ``RenderError``."""
    check_nesting(html)  # a Liquid loop can nest deeper than its source shows
    try:
        return INLINER.inline(html)
    except css_inline.InlineError as exc:
        raise RenderError(f"html: cannot inline its CSS: {exc}", part="html") from None


def html_of(content: Content, layout: Layout | None, variables: Mapping[str, Any]) -> str:
    """The content's HTML for these variables: preheader, body, layout, CSS inlined."""
    body = render_part(True, content.html, "html", variables)
    if content.preheader:
        body = PREHEADER.format(render_part(True, content.preheader, "preheader", variables)) + body
    html = render_part(True, layout.html, "layout", {**variables, "content": Markup(body)}) if layout else body
    return inline(html)


def own_text(content: Content, layout: Layout | None, variables: Mapping[str, Any]) -> str:
    """The content's own text part (it has one), in the layout's text when there is one."""
    text = render_part(False, content.text or "", "text", variables)
    if layout and layout.text:
        text = render_part(False, layout.text, "text layout", {**variables, "content": text})
    return text


def converter() -> html2text.HTML2Text:
    """html2text as the text part reads HTML: 78 columns, links kept whole, images skipped."""
    reader = html2text.HTML2Text()
    reader.body_width = 78
    reader.wrap_links = False  # a broken URL is a dead link
    reader.ignore_images = True
    return reader


def text_of(html: str) -> str:
    """html2text's reading of ``html``: the text part of content without one of its own."""
    return converter().handle(html).strip() + "\n"
