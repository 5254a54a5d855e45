"""How deeply a document nests elements, checked before CSS inlining.

css-inline parses with a recursive tree builder: a few tens of thousands of nested elements (well under
the 1 MB body limit) overflow the native stack and kill the whole process, not just the request. Real
email HTML nests a few dozen levels; anything beyond ``MAX_DEPTH`` is refused with a ``RenderError``
before it reaches the inliner.
"""

from __future__ import annotations

import re

from interfaces.rendering.message import RenderError

MAX_DEPTH = 512
# Start and end tags; comments, doctypes and processing instructions are not elements.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)\b[^>]*?(/?)>")
_VOID = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"]
)


def nesting_depth(html: str) -> int:
    """The deepest element nesting ``html`` opens (an upper bound: unclosed elements count as open)."""
    depth = deepest = 0
    for closing, name, self_closing in _TAG.findall(html):
        if name.lower() in _VOID or self_closing:
            continue
        if closing:
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def check_nesting(*parts: str | None) -> None:
    """``RenderError`` when the parts, nested in each other, could open more than ``MAX_DEPTH`` elements."""
    total = sum(nesting_depth(p) for p in parts if p)
    if total > MAX_DEPTH:
        raise RenderError(
            f"html: elements nest {total} deep; at most {MAX_DEPTH} can be rendered", part="html", depth=total
        )
