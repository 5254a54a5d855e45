"""A content version compiled once (Liquid parsed, CSS inlined, text read) and rendered per recipient."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr
from functools import lru_cache
from io import StringIO
from typing import Any

import css_inline
from liquid import Markup

from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from interfaces.link_keys import Links
from interfaces.rendering import per_render
from interfaces.rendering.inline_once import Parts, document, inlined_once
from interfaces.rendering.liquid import new_buffer, new_context, parse, render_into, render_part
from interfaces.rendering.liquid_tokens import Unsupported
from interfaces.rendering.message import Layout, Recipient, Rendered, RenderError
from interfaces.rendering.nesting import check_nesting
from interfaces.rendering.text_once import text_once
from interfaces.unsubscribe_headers import unsubscribe_headers

_log = logging.getLogger("tidings.rendering")


@dataclass(frozen=True)
class CompiledContent:
    """One content version in one layout, ready to render for many recipients.

    ``html_fallback`` says why its CSS is inlined per recipient (None: inlined once); ``text_fallback`` why its
    derived text part is read from each recipient's HTML (None: read once, or the content has its own text).
    """

    content: Content
    layout: Layout | None
    html: Parts | None
    text: Parts | None
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
        if self.html is None:
            return per_render.html_of(self.content, self.layout, variables)
        try:
            return _joined(self.html, variables)
        except RenderError:
            # The same Liquid failed; the reference path reports it exactly as it always has.
            return per_render.html_of(self.content, self.layout, variables)

    @staticmethod
    def _text(once: Parts, variables: Mapping[str, Any], html: str) -> str:
        try:
            return _joined(once, variables).strip() + "\n"
        except RenderError:  # the HTML rendered, so this cannot fail; if it does, read the HTML
            return per_render.text_of(html)


def _joined(parts: Parts, variables: Mapping[str, Any]) -> str:
    # One buffer for the whole message when the layout can be cut at its slot: the content is never copied.
    out = new_buffer()
    layout = "layout" if parts.escaped else "text layout"
    if parts.whole is not None:
        render_into(parts.whole, layout, new_context(parts.whole, variables), out)
    elif parts.around is None:
        content = new_buffer()
        _content_into(parts, variables, content)
        value = Markup(content.getvalue()) if parts.escaped else content.getvalue()
        render_into(parts.layout, layout, new_context(parts.layout, {**variables, "content": value}), out)
    else:
        before, after = parts.around
        scope = new_context(before, variables)
        render_into(before, layout, scope, out)
        _content_into(parts, variables, out)
        render_into(after, layout, scope, out)
    return out.getvalue()


def _content_into(parts: Parts, variables: Mapping[str, Any], out: StringIO) -> None:
    if parts.preheader is not None:
        out.write(parts.prefix)
        render_into(parts.preheader, "preheader", new_context(parts.preheader, variables), out)
    render_into(parts.body, "html", new_context(parts.body, variables), out)


@lru_cache(maxsize=64)
def _sender(name: str | None, address: str | None, reply_to: str | None) -> dict[str, str]:
    headers = {"From": formataddr((name, address))} if address else {}
    if reply_to:
        headers["Reply-To"] = reply_to
    return headers


@lru_cache(maxsize=64)
def compile_content(content: Content, layout: Layout | None) -> CompiledContent:
    """``content`` in ``layout`` compiled once per process (the 64 most recent versions are kept)."""
    check_nesting(layout.html if layout else None, content.preheader, content.html)
    html = text = None
    html_fallback = text_fallback = None
    doc = None
    try:
        _parse_as_written(content, layout)
        doc = document(layout.html if layout else None, content.preheader, content.html)
        html = inlined_once(doc)
    except Exception as exc:  # a gap in the checks must cost speed, never a message
        html_fallback = _reason(exc)
    if doc is None and content.text is None:
        text_fallback = html_fallback
    elif doc is not None and content.text is None:
        try:
            text = text_once(doc)
        except Exception as exc:
            text_fallback = _reason(exc)
    return CompiledContent(content, layout, html, text, html_fallback, text_fallback)


def _reason(exc: Exception) -> str:
    if isinstance(exc, Unsupported | RenderError | css_inline.InlineError):
        return str(exc) or type(exc).__name__
    _log.error("compiling content: falling back to rendering per recipient", exc_info=exc)
    return f"unexpected {type(exc).__name__}: {exc}"


def _parse_as_written(content: Content, layout: Layout | None) -> None:
    # A part that does not parse fails every render the reference way; nothing to compile.
    parse(True, content.html, "html")
    if content.preheader:
        parse(True, content.preheader, "preheader")
    if layout:
        parse(True, layout.html, "layout")
