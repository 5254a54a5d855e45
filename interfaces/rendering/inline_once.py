"""Inline a content version's CSS once, on its Liquid source, and keep Liquid for the per-recipient render.

The layout, the preheader and the body are marked (Liquid swapped for placeholders, see ``liquid_tokens``),
joined as the reference path joins them, and given to css-inline once. A placeholder that prints text stays
text, so the parser treats it as it will treat the printed value (in a table it is moved out, as the value
would be); one that prints nothing (``if``, ``for``, ``assign``...) becomes a comment ``<!--P-->``, which a
parser keeps where it is, even between table rows. Markers around the slot and the preheader let the result
be cut back into the three templates, each rendered in its own scope as before.

The result is used only when inlining cannot have depended on what Liquid prints. Checks about styles only
(the version then inlines its CSS per recipient, and its text part is still read from this output, with the
Liquid in ``<style>`` left out):

- Liquid in ``<style>``/``<script>`` or in ``class``, ``id`` or ``style``;
- selectors whose match depends on siblings (``+``, ``~``, ``:first-child``, ``:nth-*``, ``:empty``,
  ``:not``...) when there are Liquid blocks, attribute selectors when Liquid is in attributes, a ``<style>``
  inside a Liquid block.

Checks on the document (failing one, ``Unsupported``: the version keeps the reference path):

- Liquid between ``<`` and ``>`` outside an attribute value, a ``raw``/``capture``/``tablerow``/``include``/
  ``render`` tag, markup printed by Liquid (a literal holding ``<``/``>``, ``safe``, ``newline_to_br``,
  decoding filters), variables changed inside ``<style>``;
- the inliner may add implied elements, ``style`` attributes and end tags, and drop ``<style>``; the sequence
  of every other tag, attribute, text and comment must come out unchanged (so nothing moved across a
  placeholder), every tag of one Liquid block must have the same parent (so a branch or a loop body is whole
  subtrees, and removing or repeating it builds the tree the reference path would parse), and the output must
  not hold ``{{``/``{%`` made by decoding entities.
"""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass

import css_inline
from liquid import BoundTemplate

from interfaces.rendering.html_scan import Skeleton, SourceScan, contexts
from interfaces.rendering.line_folding import fold
from interfaces.rendering.liquid import parse_once
from interfaces.rendering.liquid_tokens import Marked, Token, Unsupported
from interfaces.rendering.message import RenderError
from interfaces.rendering.per_render import INLINER, PREHEADER

_SIBLING_SELECTORS = re.compile(r"[+~]|:\s*(first|last|nth|only|empty|not|has|is|where)", re.I)
_KEYED_ATTRIBUTES = frozenset({"class", "id", "style"})
_MADE_LIQUID = re.compile(r"\{[{%]")
_DOCUMENT_TAGS = re.compile(r"<(html|head|body|title|meta|base|link)\b", re.I)
_LEADING_COMMENT = re.compile(r"\s*<!")
_LIQUID = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


@dataclass(frozen=True)
class Cut:
    """An inlined document cut back into its parts; placeholders still in (``marked.restore`` puts Liquid back)."""

    layout: str  # with the slot's own markup where the content goes
    prefix: str  # the preheader's opening (its inlined ``<div>``), or ""
    preheader: str
    body: str


@dataclass(frozen=True)
class Parts:
    """A version's templates for its HTML (CSS inlined) or its text: rendered and joined per recipient."""

    escaped: bool
    layout: BoundTemplate  # the whole layout; the content goes through its slot
    around: tuple[BoundTemplate, BoundTemplate] | None  # the layout cut at its slot, when each half parses alone
    prefix: str  # the preheader's opening (its inlined ``<div>``), or ""
    preheader: BoundTemplate | None
    body: BoundTemplate
    # Layout, preheader and body as one template, when rendering them in one scope cannot differ from
    # rendering them apart (see ``_one_scope``): one context and one render a message instead of three.
    whole: BoundTemplate | None = None


@dataclass(frozen=True)
class Document:
    """The marked, joined document and its markers: what both the HTML and the text once-paths start from."""

    marked: Marked
    inlined: str  # css-inline's output, placeholders in (those in <style> left out when ``not_inlined``)
    slot: tuple[int, int] | None  # the markers around the content in the layout (None: no layout)
    preheader: tuple[int, int] | None
    droppable: frozenset[int]  # placeholders html2text may leave out: in attribute values and <title>
    not_inlined: str | None  # why this output cannot serve as the HTML (its structure still serves the text)


def document(layout_html: str | None, preheader: str, body: str) -> Document:
    """The version's parts joined with markers, inlined once and checked; or ``Unsupported`` (Liquid neither
    path can carry)."""
    marked, source, slot_markers, pre_markers = _joined(layout_html, preheader, body)
    scan = contexts(source, marked.pattern)
    try:
        _check_styles(source, marked, scan)
        not_inlined = None
    except Unsupported as exc:
        not_inlined = str(exc)
    # Without the styles checks the inliner's output still shows the structure html2text will read: Liquid in
    # <style> (never shown in text) is left out, the rest must survive the parser as for the HTML.
    dropped = {i: ("raw", detail) for i, (kind, detail) in scan.contexts.items() if kind == "raw"}
    for index, (kind, _) in scan.contexts.items():
        if kind == "tag" or (kind == "raw" and marked.tokens[index].name in ("assign", "increment", "decrement")):
            raise Unsupported(f"Liquid in a tag or changing variables in <style>: {marked.tokens[index].source[:60]}")
    for_inliner = _forms(source, marked, scan, dropped)
    try:
        inlined = INLINER.inline(for_inliner)
    except css_inline.InlineError as exc:
        raise Unsupported(f"css-inline: {exc}") from None
    _check_output(for_inliner, inlined, marked, dropped)
    inlined = fold(inlined)  # lines SMTP can take as 8bit, so no message of the version needs quoted-printable
    droppable = frozenset(i for i, (kind, _) in scan.contexts.items() if kind in ("attribute", "escapable"))
    return Document(marked, inlined, slot_markers, pre_markers, droppable, not_inlined)


Markers = tuple[int, int]


def _joined(layout_html: str | None, preheader: str, body: str) -> tuple[Marked, str, Markers | None, Markers | None]:
    # The parts marked and joined as the reference path joins them, with markers around content and preheader.
    if layout_html is None and not _DOCUMENT_TAGS.search(body) and not _LEADING_COMMENT.match(_LIQUID.sub("", body)):
        # The parser wraps a fragment in this anyway; writing it out keeps a leading ``{% if %}`` in the body
        # (a comment that leads the fragment itself is put before <html>: no wrapping then).
        layout_html = "<html><head></head><body>{{ content }}</body></html>"
    marked = Marked()
    layout, slot = marked.mark_layout(layout_html if layout_html is not None else "{{ content }}")
    inner = marked.mark(body, "html")
    pre_markers = None
    if preheader:
        pre = marked.mark(preheader, "preheader")
        pre_markers = (_marker(marked, "preheader"), _marker(marked, "preheader"))
        inner = PREHEADER.format(marked.placeholder(pre_markers[0]) + pre + marked.placeholder(pre_markers[1])) + inner
    slot_markers = None
    if layout_html is not None:  # without a layout, the whole document is the content: nothing to mark
        slot_markers = (_marker(marked, "html"), _marker(marked, "html"))
        inner = marked.placeholder(slot_markers[0]) + inner + marked.placeholder(slot_markers[1])
    return marked, layout.replace(marked.placeholder(slot), inner), slot_markers, pre_markers


def _marker(marked: Marked, part: str) -> int:
    marked.add(Token("", part, "marker"))
    return len(marked.tokens) - 1


def _check_styles(source: str, marked: Marked, scan: SourceScan) -> None:
    # Could a rule match differently once Liquid has printed? Then the CSS is inlined per recipient.
    blocks = any(t.kind == "open" for t in marked.tokens)
    if blocks and _SIBLING_SELECTORS.search(_selectors(scan.css)):
        raise Unsupported("selectors that depend on siblings, with Liquid blocks in the document")
    in_attributes = any(kind == "attribute" for kind, _ in scan.contexts.values())
    if in_attributes and "[" in _selectors(scan.css):
        raise Unsupported("attribute selectors, with Liquid in attribute values")
    depth, offsets = 0, list(scan.style_offsets)
    for found in marked.pattern.finditer(source):
        while offsets and offsets[0] < found.start():
            if depth:
                raise Unsupported("a <style> inside a Liquid block")
            offsets.pop(0)
        depth += {"open": 1, "close": -1}.get(marked.tokens[int(found[2])].kind, 0)
    for index, (kind, detail) in scan.contexts.items():
        if kind == "raw" or (kind == "attribute" and detail in _KEYED_ATTRIBUTES):
            where = f"<{detail.partition('@')[0]}>" if kind == "raw" else f"the {detail} attribute"
            raise Unsupported(f"Liquid in {where}: {marked.tokens[index].source[:60]}")


def _forms(source: str, marked: Marked, scan: SourceScan, dropped: dict[int, tuple[str, str]]) -> str:
    # Silent markup in text becomes a comment, which the parser keeps in place; dropped markup goes.
    silent = {i for i, (kind, _) in scan.contexts.items() if kind == "text" and marked.tokens[i].kind != "output"}

    def form(found: re.Match[str]) -> str:
        index = int(found[2])
        return "" if index in dropped else f"<!--{found[0]}-->" if index in silent else found[0]

    return marked.pattern.sub(form, source)


def _selectors(css: list[str]) -> str:
    text = re.sub(r"/\*.*?\*/", "", " ".join(css), flags=re.S)
    while True:  # drop declaration blocks, innermost first, leaving selectors and at-rule preludes
        shorter = re.sub(r"\{[^{}]*\}", " ", text)
        if shorter == text:
            return text
        text = shorter


def _check_output(source: str, inlined: str, marked: Marked, dropped: dict[int, tuple[str, str]]) -> None:
    if _MADE_LIQUID.search(marked.pattern.sub("", inlined)) or re.search(r"\{(?:<!--)?LQ" + marked.nonce, inlined):
        raise Unsupported("braces decoded from entities next to Liquid")
    before, after = Skeleton(marked.pattern, source), Skeleton(marked.pattern, inlined)
    if before.events != after.events:
        raise Unsupported("the HTML parser moved content across Liquid markup")
    found = [int(m[2]) for m in marked.pattern.finditer(inlined)]
    # The markers replace the slot.
    expected = [i for i, token in enumerate(marked.tokens) if token.name != "slot" and i not in dropped]
    if sorted(found) != expected:
        raise Unsupported("the inliner dropped or copied Liquid markup")
    _check_blocks(marked.tokens, {**after.parents, **dropped})  # a block left out is whole in one <style>


def _check_blocks(tokens: list[Token], parents: dict[int, tuple[object, ...]]) -> None:
    stack: list[tuple[str, tuple[object, ...]]] = []
    for index, token in enumerate(tokens):  # tokens are numbered in source order within each part
        if token.kind == "marker":
            continue
        parent = parents[index]
        if token.kind == "open":
            stack.append((token.name, parent))
        elif token.kind in ("branch", "close") or token.name in ("break", "continue"):
            loops = [p for name, p in stack if name == "for"] if token.kind == "silent" else [p for _, p in stack[-1:]]
            if loops and loops[-1] != parent:
                raise Unsupported(f"a Liquid block that is not whole elements: {token.source[:60]}")
            if token.kind == "close":
                stack.pop()
    for part in ("html", "preheader"):
        markers = [parents[i] for i, t in enumerate(tokens) if t.kind == "marker" and t.part == part]
        if markers and markers[0] != markers[1]:
            raise Unsupported(f"{'content' if part == 'html' else 'a preheader'} that is not whole elements")


def cut(inlined: str, marked: Marked, slot: int, markers: tuple[int, int] | None, pre: tuple[int, int] | None) -> Cut:
    """The inlined document cut at the markers into layout, preheader opening, preheader and body."""
    spans = {int(m[2]): m.span() for m in marked.pattern.finditer(inlined)}
    (open_start, open_end), (close_start, close_end) = (
        (spans[markers[0]], spans[markers[1]]) if markers else ((0, 0), (len(inlined), len(inlined)))
    )
    layout = inlined[:open_start] + marked.placeholder(slot) + inlined[close_end:]
    inner = inlined[open_end:close_start]
    if pre is None:
        return Cut(layout, "", "", inner)
    (pre_start, pre_open_end), (pre_close_start, pre_end) = spans[pre[0]], spans[pre[1]]
    return Cut(
        layout,
        inlined[open_end:pre_start],
        inlined[pre_open_end:pre_close_start],
        inlined[pre_end:close_start],
    )


def inlined_once(doc: Document) -> Parts:
    """The version's HTML templates, parsed; ``Unsupported`` if a part no longer parses as it did."""
    if doc.not_inlined is not None:
        raise Unsupported(doc.not_inlined)
    slot = _slot(doc.marked)
    return parse_parts(cut(doc.inlined, doc.marked, slot, doc.slot, doc.preheader), doc, True, slot)


def parse_parts(parts: Cut, doc: Document, escaped: bool, slot: int) -> Parts:
    """The cut parts with their Liquid restored, parsed; or ``Unsupported``."""
    marked, name = doc.marked, "layout" if escaped else "text layout"
    if marked.pattern.search(parts.prefix):
        raise Unsupported("Liquid before the preheader")
    before, _, after = (marked.restore(half, escaped) for half in parts.layout.partition(marked.placeholder(slot)))
    slot_source = marked.tokens[slot].source if escaped else "{{ content }}"
    try:
        layout = parse_once(escaped, before + slot_source + after, name)
        body = parse_once(escaped, marked.restore(parts.body, escaped), "html")
        preheader = None
        if doc.preheader:
            preheader = parse_once(escaped, marked.restore(parts.preheader, escaped), "preheader")
    except RenderError as exc:  # a part the HTML tools left unbalanced: do it the reference way
        raise Unsupported(f"a part no longer parses: {exc}") from None
    around = None
    # A slot at the layout's top level cuts it into two halves that parse alone; rendered in one scope, they
    # print the layout around the content without copying the content through a variable.
    if "-" not in slot_source:
        with suppress(RenderError):
            around = (parse_once(escaped, before, name), parse_once(escaped, after, name))
    whole = None
    if around is not None and _one_scope(marked):
        opening = parts.prefix + marked.restore(parts.preheader, escaped) if doc.preheader else ""
        with suppress(RenderError):
            whole = parse_once(escaped, before + opening + marked.restore(parts.body, escaped) + after, name)
    return Parts(escaped, layout, around, parts.prefix, preheader, body, whole)


# Tags that keep state in the render context (variables, counters, cycles, "changed since"), or that stop a
# template early when met outside a loop: with any of them, one scope could show a part what another did.
_TRIMMING = re.compile(r"^\{[{%]-|-[}%]\}$")
_SCOPED_TAGS = frozenset({"assign", "increment", "decrement", "cycle", "ifchanged", "liquid", "break", "continue"})


def _one_scope(marked: Marked) -> bool:
    """Whether the parts rendered in one context give what each rendered in a context of its own gives.

    The reference renders the content alone and prints it through the layout's slot, so nothing one part
    assigns, counts or cycles is seen by another; and whitespace control cannot reach across parts, so no
    trimming markup either (``{{-`` at the body's start would eat the layout's whitespace before it).
    """
    return not any(
        t.name in _SCOPED_TAGS or _TRIMMING.search(t.source) or (t.name == "for" and "continue" in t.source)
        for t in marked.tokens
        if t.kind != "marker"
    )


def _slot(marked: Marked) -> int:
    return next(i for i, t in enumerate(marked.tokens) if t.name == "slot")
