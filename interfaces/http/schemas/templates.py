"""Template request and response shapes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from interfaces.http.schemas.keys import Name, Reason

Layout = Annotated[str, msgspec.Meta(max_length=1_000_000, description="HTML holding {{ content }} exactly once")]
TextLayout = (
    Annotated[str, msgspec.Meta(max_length=1_000_000, description="Plain text holding {{ content }} exactly once")]
    | None
)


class TemplateCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Save a new template (layout version 1)."""

    name: Name
    html: Layout
    text: TextLayout = None
    reason: Reason | None = None


class TemplateUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Rename, or save new layouts as the next version (absent fields keep their value; ``text: null`` drops it)."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    html: Layout | msgspec.UnsetType = msgspec.UNSET
    text: TextLayout | msgspec.UnsetType = msgspec.UNSET
    reason: Reason | None = None


class TemplateOut(msgspec.Struct):
    """A template and its current layouts."""

    id: UUID
    name: str
    layout_version: int
    html: str
    text: str | None
    created_at: str
    created_by: str
    updated_at: str


class LayoutOut(msgspec.Struct):
    """One layout version of a template."""

    version: int
    html: str
    text: str | None
    saved_at: str
    saved_by: str
