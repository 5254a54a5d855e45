"""Read the text part out of the HTML once, with Liquid still in, for content that has no text of its own.

html2text reads the inlined document with every placeholder as plain text, so Liquid lands where its output
will be, the link targets it builds included. The result is cut at the markers like the HTML and rendered
per recipient as plain (unescaped) Liquid: the values appear as they are, where html2text would have seen
them escaped. Line wrapping was decided on the placeholders, so a long value makes a longer line.

Used only when html2text kept every placeholder that was in text or a comment, in order and once each, and
dropped only output or block markup in what it does not show (``<title>``, attribute values such as an
image's ``alt``): whole blocks, since a block's tags share one attribute. A version whose CSS is inlined per
recipient reads its text from the same checked output (printing Liquid in ``<style>`` left out: the text
does not show styles). Otherwise ``Unsupported``, and the text is read from each recipient's HTML.
"""

from __future__ import annotations

import re

from interfaces.rendering.inline_once import Document, Parts, cut, parse_parts
from interfaces.rendering.liquid_tokens import Unsupported
from interfaces.rendering.per_render import converter

_MADE_LIQUID = re.compile(r"\{[{%]")


def text_once(doc: Document) -> Parts:
    """The version's text templates read from its inlined HTML (from its marked source when the CSS is inlined
    per recipient: html2text ignores styles); or ``Unsupported``."""
    marked = doc.marked
    as_text = marked.pattern.sub(lambda found: found[0].removeprefix("<!--").removesuffix("-->"), doc.inlined)
    text = converter().handle(as_text)
    if _MADE_LIQUID.search(marked.pattern.sub("", text)) or re.search(r"\{LQ" + marked.nonce, text):
        raise Unsupported("braces decoded from entities next to Liquid")
    found = [int(m[2]) for m in marked.pattern.finditer(text)]
    order = [int(m[2]) for m in marked.pattern.finditer(doc.inlined)]
    if found != [i for i in order if i in set(found)]:
        raise Unsupported("html2text reordered or copied Liquid markup")
    for index in set(order) - set(found):
        token = marked.tokens[index]
        if index not in doc.droppable or token.kind not in ("output", "open", "branch", "close"):
            raise Unsupported(f"html2text dropped Liquid markup: {token.source[:60]}")
    slot = next(i for i, t in enumerate(marked.tokens) if t.name == "slot")
    return parse_parts(cut(text, marked, slot, doc.slot, doc.preheader), doc, False, slot)
