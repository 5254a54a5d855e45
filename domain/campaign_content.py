"""What a campaign sends, and the immutable numbered versions every content save creates.

``Content`` is the part of a campaign that approval binds to: subject, preheader, HTML body, optional
text body (``None``: generated from the HTML at render time), and the template it is wrapped in. The
template is pinned by its layout version, so editing a template never changes an approved campaign
behind its approver's back; saving the campaign with the same ``template_id`` again takes the newest layout.

A ``ContentVersion`` is one save: its number (1, 2, ...), the content, the SHA-256 of the content's
canonical JSON, who saved it, when, and which older version it restores (if it is a restore).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import Invalid
from domain.free_text import refuse_nul

MAX_SUBJECT = 998  # RFC 5322 line limit; lint warns far earlier
MAX_PREHEADER = 1000
MAX_BODY = 1_000_000


class InvalidContent(Invalid):
    """Content must fit in a message: single-line subject and preheader, bounded sizes."""

    code = "invalid_content"


@dataclass(frozen=True)
class Content:
    """The sendable content of a campaign, exactly as one version holds it."""

    subject: str = ""
    preheader: str = ""
    html: str = ""
    text: str | None = None
    template_id: UUID | None = None
    template_version: int | None = None

    def digest(self) -> str:
        """SHA-256 (hex) of the canonical JSON of every field: equal content, equal hash."""
        fields = asdict(self)
        fields["template_id"] = str(self.template_id) if self.template_id else None
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ContentVersion:
    """One immutable save of a campaign's content."""

    number: int
    content: Content
    content_hash: str
    author: str
    created_at: datetime
    restored_from: int | None = None


def _single_line(value: str, field: str, limit: int) -> str:
    # A line break in a header value would let content inject headers of its own.
    if "\r" in value or "\n" in value:
        raise InvalidContent(f"{field} must be a single line", field=field)
    refuse_nul(value, field, InvalidContent)
    if len(value) > limit:
        raise InvalidContent(f"{field} must be at most {limit} characters", field=field, length=len(value))
    return value


def _body(value: str | None, field: str) -> str | None:
    if value is not None and len(value) > MAX_BODY:
        raise InvalidContent(f"{field} must be at most {MAX_BODY} characters", field=field, length=len(value))
    refuse_nul(value, field, InvalidContent)
    return value


def clean_content(content: Content) -> Content:
    """``content`` with subject and preheader trimmed, or ``InvalidContent``."""
    if (content.template_id is None) != (content.template_version is None):
        raise InvalidContent("a template is pinned by both its id and its layout version", field="template_id")
    return Content(
        subject=_single_line(content.subject.strip(), "subject", MAX_SUBJECT),
        preheader=_single_line(content.preheader.strip(), "preheader", MAX_PREHEADER),
        html=_body(content.html, "html") or "",
        text=_body(content.text, "text"),
        template_id=content.template_id,
        template_version=content.template_version,
    )
