"""A template: a named layout that wraps campaign content, every layout change a new numbered version.

The HTML layout holds the content slot ``{{ content }}`` exactly once (spaces inside the braces are free);
the optional text layout, when given, holds it exactly once too. The slot is a Liquid variable, so the
renderer fills it like any other. Campaigns pin a layout version, so a layout change reaches a campaign
only when it is saved again.
"""

from __future__ import annotations

import re
from uuid import UUID

from eventsourcing.domain import event

from domain.api_key import clean_name
from domain.campaign_content import MAX_BODY
from domain.errors import Invalid
from domain.events import TidingsAggregate
from domain.free_text import refuse_nul

CONTENT_SLOT = "{{ content }}"
SLOT_PATTERN = re.compile(r"\{\{-?\s*content\s*-?\}\}")


class InvalidLayout(Invalid):
    """A layout holds the content slot exactly once and has a bounded size."""

    code = "invalid_layout"


def clean_layout(value: str, field: str) -> str:
    """``value`` when it holds the content slot exactly once, else ``InvalidLayout`` naming ``field``."""
    if len(value) > MAX_BODY:
        raise InvalidLayout(f"{field} must be at most {MAX_BODY} characters", field=field, length=len(value))
    refuse_nul(value, field, InvalidLayout)
    slots = len(SLOT_PATTERN.findall(value))
    if slots != 1:
        raise InvalidLayout(
            f"{field} must hold the content slot {CONTENT_SLOT} exactly once (found {slots})", field=field, slots=slots
        )
    return value


def clean_text_layout(value: str | None) -> str | None:
    """An optional text layout (``None`` or empty: no text layout)."""
    return clean_layout(value, "text") if value else None


class Template(TidingsAggregate):
    """Name and layouts of a template; ``layout_version`` counts layouts (1 is the first)."""

    @classmethod
    def create(cls, template_id: UUID, name: str, html: str, text: str | None = None) -> Template:
        """A new template with layout version 1."""
        return cls(id=template_id, name=clean_name(name), html=clean_layout(html, "html"), text=clean_text_layout(text))

    @event("Created")
    def __init__(self, id: UUID, name: str, html: str, text: str | None) -> None:  # noqa: A002
        self.name = name
        self.html = html
        self.text = text
        self.layout_version = 1

    def rename(self, name: str) -> None:
        """Give the template a new name (no event when it is the same)."""
        cleaned = clean_name(name)
        if cleaned != self.name:
            self._renamed(cleaned)

    @event("Renamed")
    def _renamed(self, name: str) -> None:
        self.name = name

    def change_layout(self, html: str, text: str | None) -> None:
        """Save new layouts as the next version (no event when both are unchanged)."""
        html, text = clean_layout(html, "html"), clean_text_layout(text)
        if (html, text) != (self.html, self.text):
            self._layout_changed(layout_version=self.layout_version + 1, html=html, text=text)

    @event("LayoutChanged")
    def _layout_changed(self, layout_version: int, html: str, text: str | None) -> None:
        self.html = html
        self.text = text
        self.layout_version = layout_version
