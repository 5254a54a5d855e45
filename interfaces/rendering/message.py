"""What rendering reads (the recipient, the pinned layout) and what it produces (the message parts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from domain.errors import Invalid


class RenderError(Invalid):
    """The content cannot be rendered for this contact: a Liquid error or a variable without a value."""

    code = "render_error"


@dataclass(frozen=True)
class Recipient:
    """The contact fields templates can read (``id`` signs the contact's links; it is not a variable)."""

    id: UUID
    email: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    timezone: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class Layout:
    """The pinned layout version of a campaign's template."""

    html: str
    text: str | None = None


@dataclass(frozen=True)
class Rendered:
    """One message's parts, ready to become MIME."""

    subject: str
    html: str
    text: str
    headers: dict[str, str]
