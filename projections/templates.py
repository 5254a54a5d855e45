"""The template catalogue: each template's current layouts, and every layout version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.template import Template
from projections.db import Database, Tx
from projections.email_events import stamp
from projections.projection import Projection

TABLE = "templates"
VERSIONS = "templates_versions"


@dataclass(frozen=True)
class TemplateRow:
    """A template as the catalogue holds it."""

    id: UUID
    name: str
    layout_version: int
    html: str
    text: str | None
    created_at: str
    created_by: str
    updated_at: str


@dataclass(frozen=True)
class LayoutRow:
    """One layout version of a template."""

    version: int
    html: str
    text: str | None
    saved_at: str
    saved_by: str


class TemplatesProjection(Projection):
    """Templates by id, and their layout versions."""

    name = TABLE
    version = 1
    topics = tuple(get_topic(c) for c in (Template.Created, Template.Renamed, Template.LayoutChanged))

    def create_statements(self, dialect: str) -> Sequence[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
            "layout_version INTEGER NOT NULL, html TEXT NOT NULL, text TEXT, created_at TEXT NOT NULL, "
            "created_by TEXT NOT NULL, updated_at TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {VERSIONS} (template_id TEXT NOT NULL, version INTEGER NOT NULL, "
            "html TEXT NOT NULL, text TEXT, saved_at TEXT NOT NULL, saved_by TEXT NOT NULL, "
            "PRIMARY KEY (template_id, version))",
        ]

    def tables(self) -> Sequence[str]:
        return [TABLE, VERSIONS]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        for e in events:
            template_id, at = str(e.originator_id), stamp(e.timestamp)
            if isinstance(e, Template.Created):
                tx.execute(
                    f"INSERT INTO {TABLE} (id, name, layout_version, html, text, created_at, created_by, updated_at) "
                    "VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
                    (template_id, e.name, e.html, e.text, at, e.actor, at),
                )
                self._version(tx, template_id, 1, e, at)
            elif isinstance(e, Template.Renamed):
                tx.execute(f"UPDATE {TABLE} SET name = ?, updated_at = ? WHERE id = ?", (e.name, at, template_id))
            elif isinstance(e, Template.LayoutChanged):
                tx.execute(
                    f"UPDATE {TABLE} SET layout_version = ?, html = ?, text = ?, updated_at = ? WHERE id = ?",
                    (e.layout_version, e.html, e.text, at, template_id),
                )
                self._version(tx, template_id, e.layout_version, e, at)

    @staticmethod
    def _version(tx: Tx, template_id: str, version: int, e: Any, at: str) -> None:
        tx.execute(
            f"INSERT INTO {VERSIONS} (template_id, version, html, text, saved_at, saved_by) VALUES (?, ?, ?, ?, ?, ?)",
            (template_id, version, e.html, e.text, at, e.actor),
        )


_COLUMNS = "id, name, layout_version, html, text, created_at, created_by, updated_at"


def _row(r: dict[str, Any]) -> TemplateRow:
    return TemplateRow(
        UUID(r["id"]), r["name"], int(r["layout_version"]), r["html"], r["text"], r["created_at"], r["created_by"],
        r["updated_at"],
    )  # fmt: skip


def get_template(db: Database, template_id: UUID) -> TemplateRow | None:
    """One template by id."""
    rows = db.query(f"SELECT {_COLUMNS} FROM {TABLE} WHERE id = ?", (str(template_id),))
    return _row(rows[0]) if rows else None


def list_templates(db: Database) -> list[TemplateRow]:
    """Templates by name."""
    return [_row(r) for r in db.query(f"SELECT {_COLUMNS} FROM {TABLE} ORDER BY name, id")]


def layouts(db: Database, template_id: UUID) -> list[LayoutRow]:
    """Every layout version of a template, oldest first."""
    rows = db.query(
        f"SELECT version, html, text, saved_at, saved_by FROM {VERSIONS} WHERE template_id = ? ORDER BY version",
        (str(template_id),),
    )
    return [LayoutRow(int(r["version"]), r["html"], r["text"], r["saved_at"], r["saved_by"]) for r in rows]


def layout(db: Database, template_id: UUID, version: int) -> LayoutRow | None:
    """Layout version ``version`` of a template (what a campaign pinned)."""
    rows = db.query(
        f"SELECT version, html, text, saved_at, saved_by FROM {VERSIONS} WHERE template_id = ? AND version = ?",
        (str(template_id), version),
    )
    return LayoutRow(int(rows[0]["version"]), rows[0]["html"], rows[0]["text"], rows[0]["saved_at"],
                     rows[0]["saved_by"]) if rows else None  # fmt: skip
