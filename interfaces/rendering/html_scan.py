"""Where placeholders sit in HTML: the context of each one in a source, and the tree around each one in output.

``contexts`` is a small HTML tokenizer (WHATWG states, much simplified) run over a marked source: it says
whether each placeholder is in text, in a quoted or unquoted attribute value (and which attribute), in a
comment, in the text of ``<title>``/``<textarea>``, in raw text (``<style>``, ``<script>``) or inside a tag
itself. ``Skeleton`` reads serialized HTML with ``html.parser`` into the sequence an inliner must not change
(tags without ``style``, text, comments) and the parent of each placeholder in the tree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

RAW_TEXT = frozenset({"style", "script", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"})
ESCAPABLE_RAW_TEXT = frozenset({"title", "textarea"})
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
                  "param", "keygen", "basefont", "bgsound", "frame"})  # fmt: skip
# Elements an HTML5 parser adds or an inliner removes: not part of what must survive.
_IMPLIED = frozenset({"html", "head", "body", "tbody", "style", "link"})
_START_TAG = re.compile(r"<([A-Za-z][^\s/>]*)")
_ATTRIBUTE = re.compile(r"""[\s/]*(?:(>)|([^\s/>=][^\s/>=]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]*))?)""")


@dataclass
class SourceScan:
    """What the tokenizer found: each placeholder's context, the CSS, and where ``<style>`` elements start."""

    contexts: dict[int, tuple[str, str]] = field(default_factory=dict)
    css: list[str] = field(default_factory=list)
    style_offsets: list[int] = field(default_factory=list)


def contexts(source: str, placeholder: re.Pattern[str]) -> SourceScan:
    """The context of each placeholder in ``source``: (kind, detail), kind one of text, attribute, comment,
    escapable (title/textarea), raw (style/script) or tag."""
    scan = SourceScan()

    def note(start: int, end: int, kind: str, detail: str = "") -> None:
        for found in placeholder.finditer(source, start, end):
            scan.contexts[int(found[2])] = (kind, detail)

    pos, size = 0, len(source)
    while pos < size:
        lt = source.find("<", pos)
        if lt < 0:
            note(pos, size, "text")
            break
        note(pos, lt, "text")
        if source.startswith("<!--", lt):
            end = source.find("-->", lt + 4)
            end = size if end < 0 else end + 3
            note(lt, end, "comment")
            pos = end
        elif source.startswith(("<!", "<?", "</"), lt):
            end = source.find(">", lt)
            end = size if end < 0 else end + 1
            note(lt, end, "tag")
            pos = end
        elif tag := _START_TAG.match(source, lt):
            pos = _start_tag(source, tag, note, scan)
        else:
            pos = lt + 1
    return scan


def _start_tag(source: str, tag: re.Match[str], note: Callable[..., None], scan: SourceScan) -> int:
    name, pos = tag[1].lower(), tag.end()
    note(tag.start(), pos, "tag")
    while pos < len(source):
        attribute = _ATTRIBUTE.match(source, pos)
        if attribute is None or attribute.end() == pos:
            note(pos, pos + 1, "tag")
            pos += 1
            continue
        pos = attribute.end()
        if attribute[1]:
            break
        note(attribute.start(2), attribute.end(2), "tag")
        if attribute[3] is not None:
            note(attribute.start(3), attribute.end(3), "attribute", attribute[2].lower())
    if name in RAW_TEXT | ESCAPABLE_RAW_TEXT:
        closing = re.compile(f"</{name}", re.I).search(source, pos)
        end = closing.start() if closing else len(source)
        note(pos, end, "raw" if name in RAW_TEXT else "escapable", f"{name}@{tag.start()}")
        if name == "style":
            scan.style_offsets.append(tag.start())
            scan.css.append(source[pos:end])
        return end
    return pos


class Skeleton(HTMLParser):
    """Serialized HTML read as a sequence of events, and the parent of each placeholder."""

    def __init__(self, placeholder: re.Pattern[str], html: str) -> None:
        super().__init__(convert_charrefs=True)
        self._placeholder = placeholder
        self._stack: list[int] = [0]
        self._nodes = 0
        self._in_style = False
        self.events: list[tuple[object, ...]] = []
        self.parents: dict[int, tuple[object, ...]] = {}
        self.feed(html)
        self.close()

    def _node(self) -> int:
        self._nodes += 1
        return self._nodes

    def _found(self, text: str, parent: tuple[object, ...]) -> None:
        for found in self._placeholder.finditer(text):
            self.parents.setdefault(int(found[2]), parent)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = self._node()
        values = sorted((name, value or "") for name, value in attrs if name != "style")
        for name, value in values:
            self._found(value, ("attribute", node, name))
        if tag not in _IMPLIED:
            self.events.append(("tag", tag, tuple(values)))
        self._in_style = tag == "style"
        if tag not in VOID:
            self._stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self._stack.pop()

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False
        if tag not in VOID and len(self._stack) > 1:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._in_style:
            return
        self._found(data, ("element", self._stack[-1]))
        text = " ".join(data.split())
        if not text:
            return
        if self.events and self.events[-1][0] == "text":
            self.events[-1] = ("text", f"{self.events[-1][1]} {text}")
        else:
            self.events.append(("text", text))

    def handle_comment(self, data: str) -> None:
        if self._placeholder.fullmatch(data.strip()) is None:
            self._found(data, ("comment", self._node()))
        else:
            self._found(data, ("element", self._stack[-1]))
        self.events.append(("comment", data))
