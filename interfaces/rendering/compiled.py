"""A content version compiled once (Liquid parsed, CSS inlined, text read) and rendered per recipient."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr
from functools import lru_cache
from typing import Any

import css_inline
from liquid import Markup

from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from interfaces.link_keys import Links
from interfaces.rendering import per_render
from interfaces.rendering.inline_once import InlinedOnce, document, inlined_once
from interfaces.rendering.liquid import parse, render_part, render_template
from interfaces.rendering.liquid_tokens import Unsupported
from interfaces.rendering.message import Layout, Recipient, Rendered, RenderError
from interfaces.rendering.text_once import BLANK_LINES, TextOnce, text_once
from interfaces.unsubscribe_headers import unsubscribe_headers


@dataclass(frozen=True)
class CompiledContent:
    """One content version in one layout, ready to render for many recipients.

    ``html_fallback`` says why its CSS is inlined per recipient (None: inlined once); ``text_fallback`` why its
    derived text part is read from each recipient's HTML (None: read once, or the content has its own text).
    """

    content: Content
    layout: Layout | None
    html: InlinedOnce | None
    text: TextOnce | None
    html_fallback: str | None
    text_fallback: str | None

    def render(
        self,
        recipient: Recipient,
        *,
        settings: CampaignSettings,
        links: Links,
        now: datetime,
        mailto: str | None = None,
    ) -> Rendered:
        """The message this content makes for ``recipient``, or ``RenderError``."""
        token = links.unsubscribe_token(recipient.id, now, settings.category)
        variables: dict[str, Any] = {
            "contact": {
                "email": recipient.email,
                "attributes": dict(recipient.attributes),
                "timezone": recipient.timezone,
                "locale": recipient.locale,
            },
            "preferences_url": links.preferences_url(recipient.id, now),
            "unsubscribe_url": links.unsubscribe_url_of(token),
        }
        subject = " ".join(render_part(False, self.content.subject, "subject", variables).split())
        html = self._html(variables)
        if self.content.text is not None:
            text = per_render.own_text(self.content, self.layout, variables)
        elif self.text is None:
            text = per_render.text_of(html)
        else:
            text = self._text(self.text, variables, html)
        headers = {"To": recipient.email, **_sender(settings.from_name, settings.from_address, settings.reply_to)}
        headers.update(unsubscribe_headers(links, recipient.id, settings.category, now, mailto, token=token))
        return Rendered(subject, html, text, headers)

    def _html(self, variables: Mapping[str, Any]) -> str:
        once = self.html
        if once is None:
            return per_render.html_of(self.content, self.layout, variables)
        try:
            body = render_template(once.body, "html", variables)
            if once.preheader is not None:
                body = once.prefix + render_template(once.preheader, "preheader", variables) + body
            return render_template(once.layout, "layout", {**variables, "content": Markup(body)})
        except RenderError:
            # The same Liquid failed; the reference path reports it exactly as it always has.
            return per_render.html_of(self.content, self.layout, variables)

    @staticmethod
    def _text(once: TextOnce, variables: Mapping[str, Any], html: str) -> str:
        try:
            body = render_template(once.body, "html", variables)
            if once.preheader is not None:
                body = once.prefix + render_template(once.preheader, "preheader", variables) + body
            text = render_template(once.layout, "text layout", {**variables, "content": body})
        except RenderError:  # the HTML rendered, so this cannot fail; if it does, read the HTML
            return per_render.text_of(html)
        return BLANK_LINES.sub("\n\n", text).strip() + "\n"


@lru_cache(maxsize=64)
def _sender(name: str | None, address: str | None, reply_to: str | None) -> dict[str, str]:
    headers = {"From": formataddr((name, address))} if address else {}
    if reply_to:
        headers["Reply-To"] = reply_to
    return headers


@lru_cache(maxsize=64)
def compile_content(content: Content, layout: Layout | None) -> CompiledContent:
    """``content`` in ``layout`` compiled once per process (the 64 most recent versions are kept)."""
    html = text = None
    html_fallback = text_fallback = None
    try:
        _parse_as_written(content, layout)
        doc = document(layout.html if layout else None, content.preheader, content.html)
        html = inlined_once(doc)
    except (Unsupported, RenderError, css_inline.InlineError) as exc:
        html_fallback = str(exc) or type(exc).__name__
    if html is not None and content.text is None:
        try:
            text = text_once(doc)
        except Unsupported as exc:
            text_fallback = str(exc)
    return CompiledContent(content, layout, html, text, html_fallback, text_fallback)


def _parse_as_written(content: Content, layout: Layout | None) -> None:
    # A part that does not parse fails every render the reference way; nothing to compile.
    parse(True, content.html, "html")
    if content.preheader:
        parse(True, content.preheader, "preheader")
    if layout:
        parse(True, layout.html, "layout")
