"""HTML checks over the Liquid source of the HTML parts: links, images, the unsubscribe link, the message size.

Links are ``href`` values of ``<a>`` and ``<area>``. A link that starts with Liquid markup (``{{ unsubscribe_url }}``)
is the renderer's to fill and is not checked; Liquid markup further in is read as a placeholder, so
``https://example.com/?e={{ contact.email }}`` is checked as an https link. ``mailto:``, ``tel:`` and in-page
``#`` links are fine. Every other link must be an absolute ``https`` URL with a host: ``http`` is a warning
(clients warn, trackers downgrade), anything else (relative, ``javascript:``, spaces, no host) is malformed
and blocks submission, since a mail client has no base URL to resolve it against.

An image without an ``alt`` attribute is a warning; ``alt=""`` marks a decorative image and is fine.
"""

from __future__ import annotations

import contextlib
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import css_inline

from domain.campaign_workflow import Problem
from interfaces.lint.parts import ERROR, WARNING, Layout, Part, problem

# Gmail clips a message whose HTML is larger than this ("[Message clipped] View entire message").
GMAIL_CLIP_BYTES = 102 * 1024
_LIQUID = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_UNSUBSCRIBE = re.compile(r"\{\{-?\s*unsubscribe_url[\s|}-]")
_HOST = re.compile(r"^(?=.{1,253}$)(?!-)[^\s/?#@:]+(?<![-.])$")
_SLOT = re.compile(r"\{\{-?\s*content\s*-?\}\}")
_FINE_SCHEMES = ("mailto:", "tel:", "#")
_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_link_tags=False)
# css-inline's parser recurses per nesting level and crashes the process (SIGSEGV) past about 10,000 levels:
# deeper sources are measured without inlining. Counted naively (implied end tags not applied), so it errs early.
MAX_INLINED_DEPTH = 512
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                   "wbr"})  # fmt: skip


class _Scan(HTMLParser):
    """Links and images without alt, with their 1-based positions."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, tuple[int, int]]] = []
        self.bare_images: list[tuple[str, tuple[int, int]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line, offset = self.getpos()
        at = (line, offset + 1)
        values = dict(attrs)
        if tag in ("a", "area") and "href" in values:
            self.links.append((values["href"] or "", at))
        if tag == "img" and "alt" not in values:
            self.bare_images.append((values.get("src") or "", at))


class _TooDeep(Exception):
    pass


class _Depth(HTMLParser):
    """Stops with ``_TooDeep`` once elements nest deeper than ``MAX_INLINED_DEPTH``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID:
            self.depth += 1
            if self.depth > MAX_INLINED_DEPTH:
                raise _TooDeep

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        self.depth = max(0, self.depth - 1)


def _shallow(html: str) -> bool:
    try:
        scan = _Depth()
        scan.feed(html)
        scan.close()
    except _TooDeep:
        return False
    return True


def html_problems(part: Part) -> list[Problem]:
    """Malformed and plain-http links, and images without alt text, in one HTML part."""
    scan = _Scan()
    scan.feed(part.source)
    scan.close()
    found = [p for href, at in scan.links if (p := _link_problem(part, href, at)) is not None]
    found += [
        problem("image_without_alt", f"{part.field}: image {_short(src)} has no alt text", WARNING, part, at)
        for src, at in scan.bare_images
    ]
    return found


def _link_problem(part: Part, href: str, at: tuple[int, int]) -> Problem | None:
    url = href.strip()
    if url.startswith(("{{", "{%")) or url.lower().startswith(_FINE_SCHEMES):
        return None
    reason = _malformed(_LIQUID.sub("x", url))
    if reason is not None:
        return problem("malformed_link", f"{part.field}: link {_short(url)} {reason}", ERROR, part, at)
    if url.lower().startswith("http:"):
        return problem("insecure_link", f"{part.field}: link {_short(url)} is plain http; use https", WARNING, part, at)
    return None


def _malformed(url: str) -> str | None:
    """Why ``url`` (Liquid replaced by placeholders) is no usable link in a message, or None."""
    if not url:
        return "is empty"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "holds white space or control characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "is relative; links in email need https://" if not parts.scheme else f"uses {parts.scheme}:"
    if not host or not _HOST.match(host) or ".." in host:
        return "has no valid host"
    return None


def _short(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def unsubscribe_problems(html: str, layout: Layout | None) -> list[Problem]:
    """An error unless the HTML body or its layout prints ``unsubscribe_url``."""
    if any(_UNSUBSCRIBE.search(source) for source in (html, layout.html if layout else "")):
        return []
    message = 'the HTML has no unsubscribe link: add <a href="{{ unsubscribe_url }}">Unsubscribe</a>'
    return [problem("missing_unsubscribe_link", message, ERROR, "html")]


def size_problems(html: str, preheader: str, layout: Layout | None) -> list[Problem]:
    """A warning when the HTML, wrapped in its layout and with CSS inlined, is over Gmail's clipping size.

    Measured on the Liquid source (variables count as their markup, not their values) after css-inline,
    which repeats every style rule on every element it matches, in UTF-8 bytes.
    """
    body = preheader + html
    assembled = _SLOT.sub(lambda _: body, layout.html, count=1) if layout else body
    # The renderer reports CSS it cannot inline; here measure what there is.
    if _shallow(assembled):
        with contextlib.suppress(css_inline.InlineError, ValueError):
            assembled = _INLINER.inline(assembled)
    size = len(assembled.encode("utf-8", "surrogatepass"))
    if size <= GMAIL_CLIP_BYTES:
        return []
    message = f"the HTML is {size / 1024:.0f} KB with its layout and inlined CSS; Gmail clips messages over 102 KB"
    return [problem("html_too_large", message, WARNING, "html")]
