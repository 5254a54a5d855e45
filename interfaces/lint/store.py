"""The linter over the store: the pinned layout, the connection's sending domains and the attribute names
contacts have, looked up for ``campaign.lint``.

There is no registry of attribute names: an attribute exists when at least one contact has it (the
contacts read model's ``contacts_attributes``, one indexed lookup per name a template uses). A template
naming an attribute no contact has would fail, or print its default, for every recipient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.esp_connections import EspConnections
from application.templates import Templates
from domain.campaign import Campaign
from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from domain.campaign_workflow import Problem
from domain.errors import NotFound
from domain.template import Template
from interfaces.lint.campaign import lint
from interfaces.lint.parts import Layout
from projections.contacts import ATTRIBUTES
from projections.db import Database
from projections.templates import layout


@dataclass(frozen=True)
class CampaignLinter:
    """Lints campaigns against the store; called with a campaign it is the submission validator."""

    db: Database
    connections: EspConnections
    templates: Templates

    def __call__(self, campaign: Campaign) -> list[Problem]:
        """The problems of the campaign's current content (``application.campaigns.Validate``)."""
        return self.lint(campaign.content, campaign.settings)

    def lint(self, content: Content, settings: CampaignSettings) -> list[Problem]:
        """The problems of ``content`` sent with ``settings``."""
        return lint(content, settings, layout=self.layout(content), sending_domains=self.sending_domains(settings),
                    attribute_exists=self.attribute_exists)  # fmt: skip

    def attribute_exists(self, name: str) -> bool:
        """Whether at least one contact has attribute ``name``."""
        return bool(self.db.query(f"SELECT 1 AS found FROM {ATTRIBUTES} WHERE name = ? LIMIT 1", (name,)))

    def sending_domains(self, settings: CampaignSettings) -> tuple[str, ...] | None:
        """The sending domains of the campaign's ESP connection; None when it names none."""
        if settings.esp_connection_id is None:
            return None
        try:
            return tuple(self.connections.get(settings.esp_connection_id).sending_domains)
        except NotFound:
            return None

    def layout(self, content: Content) -> Layout | None:
        """The layout version the content pins, from the read model or (while it lags) the store."""
        if content.template_id is None or content.template_version is None:
            return None
        row = layout(self.db, content.template_id, content.template_version)
        if row is not None:
            return Layout(row.html, row.text)
        template = self._template_at(content.template_id, content.template_version)
        return None if template is None else Layout(template.html, template.text)

    def _template_at(self, template_id: UUID, layout_version: int) -> Any:
        try:
            template: Template = self.templates.load(template_id, Template)
        except NotFound:
            return None
        # Renames also make aggregate versions: step back until the pinned layout is the current one.
        version = template.version
        while template.layout_version > layout_version and version > 1:
            version -= 1
            template = self.templates.load(template_id, Template, version)
        return template if template.layout_version == layout_version else None
