"""Liquid markup found in a part's source, classified, and swapped for placeholders the HTML tools leave alone.

A placeholder is ``LQ<nonce><n>Q``: letters and digits only, so an HTML parser keeps it verbatim in text,
attribute values and comments, and html2text neither escapes nor wraps it. The nonce is chosen per
compilation so no placeholder can occur in the source by chance.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

# A block comment or doc is one token: what it holds is never output, so the HTML tools need not see it.
_MARKUP = re.compile(r"\{%-?\s*(comment|doc)\s*-?%\}.*?\{%-?\s*end\1\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}", re.S)
_TAG_NAME = re.compile(r"\{%-?\s*(#|\w+)")
_SLOT = re.compile(r"\{\{-?\s*content\s*-?\}\}")
_TRIMS = re.compile(r"^(\{[{%])-|-(?=[}%]\}$)")
_LITERAL = re.compile(r"'[^']*'|\"[^\"]*\"")
# Filters whose result is markup, not text: the HTML they make would never meet the stylesheet.
_MARKUP_FILTERS = re.compile(r"\|\s*(safe|newline_to_br|url_decode|base64_decode|base64_url_safe_decode)\b")
_NOT_IN_LIQUID_TAG = re.compile(r"\b(render|include|capture|tablerow|raw)\b")

OPEN = frozenset({"if", "unless", "for", "case", "ifchanged"})
BRANCH = frozenset({"elsif", "else", "when"})
CLOSE = frozenset({"endif", "endunless", "endfor", "endcase", "endifchanged"})
SILENT = frozenset({"assign", "break", "continue", "#", "comment", "doc"})
OUTPUT = frozenset({"echo", "cycle", "increment", "decrement", "liquid"})


class Unsupported(Exception):
    """The source uses something the inline-once path cannot carry faithfully; the reason says what."""


@dataclass(frozen=True)
class Token:
    """One piece of Liquid markup: its source, the part it is in, and what it does to the output."""

    source: str
    part: str
    kind: str  # output | open | branch | close | silent | marker
    name: str = ""


def kind_of(markup: str) -> tuple[str, str]:
    """(kind, tag name) of one piece of markup, or ``Unsupported``."""
    if markup.startswith("{{"):
        kind, name = "output", ""
    else:
        found = _TAG_NAME.match(markup)
        name = found[1] if found else ""
        if name in OPEN | BRANCH | CLOSE | SILENT:
            return ("open" if name in OPEN else "branch" if name in BRANCH else "close" if name in CLOSE
                    else "silent"), name  # fmt: skip
        if name not in OUTPUT or (name == "liquid" and _NOT_IN_LIQUID_TAG.search(markup)):
            raise Unsupported(f"the {{% {name} %}} tag")
        kind = "output"
    if _MARKUP_FILTERS.search(markup) or any("<" in s or ">" in s for s in _LITERAL.findall(markup)):
        raise Unsupported(f"markup made by Liquid: {markup[:60]}")
    return kind, name


@dataclass
class Marked:
    """Sources with their Liquid swapped for placeholders, and the tokens each placeholder stands for."""

    nonce: str = field(default_factory=lambda: secrets.token_hex(4))
    tokens: list[Token] = field(default_factory=list)

    def placeholder(self, index: int) -> str:
        """The placeholder of token ``index``."""
        return f"LQ{self.nonce}{index}Q"

    @property
    def pattern(self) -> re.Pattern[str]:
        """Finds a placeholder, its comment form (``<!--P-->``) first; group 2 is the index."""
        return re.compile(f"(<!--)?LQ{self.nonce}(\\d+)Q(?(1)-->)")

    def add(self, token: Token) -> str:
        """The placeholder of a new token."""
        self.tokens.append(token)
        return self.placeholder(len(self.tokens) - 1)

    def mark(self, source: str, part: str) -> str:
        """``source`` with each piece of Liquid markup replaced by its placeholder."""
        if f"LQ{self.nonce}" in source:
            raise Unsupported("a placeholder collision")  # one chance in 4 billion per source; just fall back
        return _MARKUP.sub(lambda found: self.add(Token(found[0], part, *kind_of(found[0]))), source)

    def mark_layout(self, source: str) -> tuple[str, int]:
        """The layout marked, and the index of its one ``{{ content }}`` slot."""
        slots = _SLOT.findall(source)
        if len(slots) != 1:
            raise Unsupported("a layout without exactly one {{ content }}")
        marked = self.mark(source, "layout")
        slots = [i for i, t in enumerate(self.tokens) if t.part == "layout" and _SLOT.fullmatch(t.source)]
        if len(slots) != 1:  # the one {{ content }} is inside a comment block
            raise Unsupported("a layout without exactly one {{ content }}")
        slot = slots[0]
        if any(
            re.search(r"\bcontent\b", t.source) for i, t in enumerate(self.tokens) if t.part == "layout" and i != slot
        ):
            raise Unsupported("a layout that reads content other than through {{ content }}")
        self.tokens[slot] = Token(self.tokens[slot].source, "layout", "marker", "slot")
        return marked, slot

    def restore(self, text: str, trims: bool = True) -> str:
        """``text`` with every placeholder (either form) replaced by the markup it stands for; without
        whitespace control (``{{-``, ``-%}``) when not ``trims``: in text read by html2text, the whitespace
        next to a tag is html2text's layout, not the author's."""
        if trims:
            return self.pattern.sub(lambda found: self.tokens[int(found[2])].source, text)
        return self.pattern.sub(lambda found: _TRIMS.sub(r"\1", self.tokens[int(found[2])].source), text)
