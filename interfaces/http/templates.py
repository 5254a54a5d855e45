"""Template endpoints: save, list, read, rename or change layouts (each change a new version), read old layouts."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from domain.api_key import Role
from domain.errors import NotFound
from domain.events import because
from interfaces.bootstrap import Container
from interfaces.http.auth import ANY_ROLE, require
from interfaces.http.errors import documented
from interfaces.http.schemas.templates import LayoutOut, TemplateCreate, TemplateOut, TemplateUpdate
from projections.templates import LayoutRow, TemplateRow, get_template, layout, layouts, list_templates

EDITORS = require(Role.EDITOR)
_ERRORS = (401, 403, 429)


def _out(row: TemplateRow) -> TemplateOut:
    return TemplateOut(row.id, row.name, row.layout_version, row.html, row.text, row.created_at, row.created_by,
                       row.updated_at)  # fmt: skip


def _layout(row: LayoutRow) -> LayoutOut:
    return LayoutOut(row.version, row.html, row.text, row.saved_at, row.saved_by)


def _row(container: Container, template_id: UUID) -> TemplateRow:
    row = get_template(container.db, template_id)
    if row is None:
        raise NotFound(f"template {template_id} not found")
    return row


class TemplatesController(Controller):
    """Layouts that wrap campaign content."""

    path = "/templates"
    tags = ["templates"]

    @post("/", operation_id="createTemplate", guards=[EDITORS], sync_to_thread=True,
          responses=documented(400, 415, 422, *_ERRORS))  # fmt: skip
    def create(self, data: JSONBody[TemplateCreate], container: NamedDependency[Container]) -> TemplateOut:
        """Save a template; its layout is version 1."""
        with because(data.reason):
            template = container.templates.create(data.name, data.html, data.text)
        container.settle()
        return _out(_row(container, template.id))

    @get("/", operation_id="listTemplates", guards=[ANY_ROLE], sync_to_thread=True, responses=documented(400, *_ERRORS))
    def list(self, container: NamedDependency[Container]) -> list[TemplateOut]:
        """Templates by name."""
        return [_out(r) for r in list_templates(container.db)]

    @get("/{template_id:uuid}", operation_id="getTemplate", guards=[ANY_ROLE], sync_to_thread=True,
         responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def read(self, template_id: FromPath[UUID], container: NamedDependency[Container]) -> TemplateOut:
        """One template with its current layouts."""
        return _out(_row(container, template_id))

    @patch("/{template_id:uuid}", operation_id="updateTemplate", guards=[EDITORS], sync_to_thread=True,
           responses=documented(400, 404, 409, 415, 422, *_ERRORS))  # fmt: skip
    def update(
        self, template_id: FromPath[UUID], data: JSONBody[TemplateUpdate], container: NamedDependency[Container]
    ) -> TemplateOut:
        """Rename, or save new layouts as the next version (campaigns keep the version they pinned)."""
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if k != "reason" and v is not msgspec.UNSET}
        with because(data.reason):
            container.templates.update(template_id, changes)
        container.settle()
        return _out(_row(container, template_id))

    @get("/{template_id:uuid}/versions", operation_id="listTemplateVersions", guards=[ANY_ROLE], sync_to_thread=True,
         responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def versions(self, template_id: FromPath[UUID], container: NamedDependency[Container]) -> list[LayoutOut]:
        """Every layout version, oldest first."""
        _row(container, template_id)
        return [_layout(r) for r in layouts(container.db, template_id)]

    @get("/{template_id:uuid}/versions/{version:int}", operation_id="getTemplateVersion", guards=[ANY_ROLE],
         sync_to_thread=True, responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def version(
        self, template_id: FromPath[UUID], version: FromPath[int], container: NamedDependency[Container]
    ) -> LayoutOut:
        """One layout version (what a campaign pinned)."""
        row = layout(container.db, template_id, version)
        if row is None:
            raise NotFound(f"template {template_id} has no layout version {version}")
        return _layout(row)
