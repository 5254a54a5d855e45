"""Template use cases: create, rename, change layout (each layout change a new version)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid4

from application.base import TidingsApplication
from domain.errors import Invalid
from domain.template import Template

FIELDS = frozenset({"name", "html", "text"})


class Templates(TidingsApplication):
    """Manage templates; their events are the audit log of every layout."""

    def create(self, name: str, html: str, text: str | None = None) -> Template:
        """Save a new template."""
        template = Template.create(uuid4(), name, html, text)
        self.save(template)
        return template

    def get(self, template_id: UUID) -> Template:
        """The template's current state."""
        template: Template = self.load(template_id, Template)
        return template

    def update(self, template_id: UUID, changes: Mapping[str, Any]) -> Template:
        """Apply the given changes (keys ``name``, ``html``, ``text``; absent keys keep their value) in one save."""
        unknown = set(changes) - FIELDS
        if unknown:
            raise Invalid("unknown template fields", fields=sorted(unknown))
        template = self.get(template_id)
        if "name" in changes:
            template.rename(changes["name"])
        if {"html", "text"} & set(changes):
            template.change_layout(changes.get("html", template.html), changes.get("text", template.text))
        self.save(template)
        return template
