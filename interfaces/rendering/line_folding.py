"""Long lines of serialized HTML broken where a line break changes nothing: between a tag's attributes.

css-inline serializes a document on as few lines as its source had, so a minified newsletter is one line of
60 KB. SMTP allows 998 bytes a line (RFC 5321 §4.5.3.1.6), so such a part cannot go as 8bit: it is
quoted-printable encoded for every recipient, which costs more than rendering it. Whitespace between
attributes may be any whitespace (WHATWG HTML §13.2.5.32, "before attribute name state"), so turning that
space into a newline leaves the document as every parser reads it. Text, comments, ``<style>`` and
``<script>`` are never touched. Folding is done once per content version; a line it cannot shorten (one long
attribute value) still goes quoted-printable, decided per message by ``interfaces.transports.wire``.
"""

from __future__ import annotations

import re

from interfaces.rendering.html_scan import RAW_TEXT

LIMIT = 600  # characters: up to 998 bytes of UTF-8 stays likely after values are printed into the line
_START_TAG = re.compile(r"<([A-Za-z][^\s/>]*)")
# One attribute with the whitespace before it; values as html5ever writes them (double quotes), or any quoting.
_ATTRIBUTE = re.compile(r"""(\s+)[^\s"'>/=][^\s"'>/=]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")


def break_points(html: str) -> list[int]:
    """Offsets of a single space that separates two of a start tag's attributes (or a name from the first)."""
    points: list[int] = []
    pos, size = 0, len(html)
    while pos < size:
        lt = html.find("<", pos)
        if lt < 0:
            break
        if html.startswith("<!--", lt):
            end = html.find("-->", lt + 4)
            pos = size if end < 0 else end + 3
            continue
        if html.startswith(("<!", "<?"), lt) or (html.startswith("</", lt) and not _START_TAG.match(html, lt + 1)):
            # A doctype, or a bogus comment up to the next ">" (WHATWG HTML §13.2.5.6-7, 42): its spaces are text.
            close = html.find(">", lt + 2)
            pos = size if close < 0 else close + 1
            continue
        end_tag = html.startswith("</", lt)
        tag = _START_TAG.match(html, lt + end_tag)
        if tag is None:
            pos = lt + 1
            continue
        pos = tag.end()
        # An end tag's attributes are parsed and dropped: skipped the same way, so a ">" in a value is not its end.
        while (attribute := _ATTRIBUTE.match(html, pos)) is not None:
            if attribute[1] == " " and not end_tag:
                points.append(attribute.start(1))
            pos = attribute.end()
        close = html.find(">", pos)
        if end_tag:
            pos = size if close < 0 else close + 1
            continue
        pos = size if close < 0 else close + 1
        name = tag[1].lower()
        if name in RAW_TEXT and close >= 0 and html[close - 1] != "/":
            end = html.lower().find(f"</{name}", pos)
            pos = size if end < 0 else end
    return points


def fold(html: str, limit: int = LIMIT) -> str:
    """``html`` with lines longer than ``limit`` broken at attribute boundaries where there are any."""
    if len(html) <= limit:
        return html
    breaks: list[int] = []
    line_start, previous = 0, -1
    for point in break_points(html):
        newline = html.rfind("\n", line_start, point)
        if newline >= 0:
            line_start, previous = newline + 1, -1
        if point - line_start > limit and previous > line_start:
            breaks.append(previous)
            line_start = previous + 1
        previous = point
    if not breaks:
        return html
    pieces, start = [], 0
    for at in breaks:
        pieces += [html[start:at], "\n"]
        start = at + 1
    pieces.append(html[start:])
    return "".join(pieces)
