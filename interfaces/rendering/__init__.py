"""Render one campaign content version for one contact: subject, HTML with CSS inlined, text part, headers.

Templates are Liquid (python-liquid), which is sandboxed by design: templates reach only the data passed
in (no attributes or methods of Python objects), and loops, output size and nesting are bounded here.
Variables: ``contact`` (``email``, ``attributes``, ``timezone``, ``locale``), ``preferences_url`` and
``unsubscribe_url``. A missing variable renders through the ``default`` filter and is false in a condition;
printed without a default it is a ``RenderError`` naming it, so a send never goes out with a blank where a
name should be. The ``date`` filter shows instants in the contact's time zone (UTC when unset): a format
with ``%`` is strftime, anything else a CLDR pattern or ``short``/``medium``/``long``/``full`` in the
contact's locale (Babel).

HTML output escapes variables (contact data cannot inject markup); subject and text do not. The content is
wrapped in the template's layout through its ``{{ content }}`` slot, then css-inline moves ``<style>`` rules
into ``style`` attributes (no remote stylesheets are fetched; ``@media`` rules are dropped with the
``<style>`` element). The text part is the content's own text when it has one, else html2text's reading of
the final HTML.

Compiled once, rendered per recipient. ``compile_content(content, layout)`` (the 64 latest versions cached
per process, keyed by the content and layout themselves) parses the Liquid, inlines the CSS once on the
Liquid source (``inline_once``) and reads the text part once from the same output (``text_once``);
``CompiledContent.render(recipient, ...)`` then only renders Liquid, signs the two links (one unsubscribe
token serves the body's link and the ``List-Unsubscribe`` header) and builds the headers. A version whose
inlining could depend on what Liquid prints (Liquid in ``<style>`` or ``class``, sibling selectors around
conditional blocks...) inlines its CSS per recipient (``per_render``) and says why in ``html_fallback``; its
text is still read once unless the HTML's structure moves around Liquid (``text_fallback``). Liquid that
prints markup (``capture``, ``raw``, ``safe``, a literal holding ``<``) keeps the reference path entirely.

The fast path's HTML is the reference HTML up to serialization (``&#39;`` for ``'``, whitespace the parser
moves): the same tree. Its text part has the same content, with values shown as they are (html2text would
have escaped Markdown in them) and lines wrapped around placeholders rather than values. A render error is
reported by re-running the reference path, so it names the same part and variable as always.
``render(...)`` is ``compile_content(...).render(...)``. Output is bounded at 5M characters per render.
"""

from __future__ import annotations

from datetime import datetime

from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from interfaces.link_keys import Links
from interfaces.rendering.compiled import CompiledContent, compile_content
from interfaces.rendering.message import Layout, Recipient, Rendered, RenderError

__all__ = ["CompiledContent", "Layout", "Recipient", "RenderError", "Rendered", "compile_content", "render"]


def render(
    content: Content,
    layout: Layout | None,
    recipient: Recipient,
    *,
    settings: CampaignSettings,
    links: Links,
    now: datetime,
    mailto: str | None = None,
) -> Rendered:
    """The message ``content`` (wrapped in ``layout``) makes for ``recipient``, or ``RenderError``."""
    return compile_content(content, layout).render(recipient, settings=settings, links=links, now=now, mailto=mailto)
