"""Capture outbox shapes: a page of message summaries, and one message in full."""

from __future__ import annotations

from uuid import UUID

import msgspec


class CapturedSummary(msgspec.Struct, rename={"sender": "from"}):
    """A captured message without its bodies; ``attempts`` counts the hand-overs (1 unless a worker crashed)."""

    message_id: UUID
    campaign_id: UUID
    contact_id: UUID
    to: str
    sender: str
    subject: str
    attempts: int
    captured_at: str


class CapturedPage(msgspec.Struct):
    """Captured messages in id order; pass ``next_cursor`` back as ``cursor`` (null: the last page)."""

    items: list[CapturedSummary]
    next_cursor: str | None


class CapturedMessage(msgspec.Struct, rename={"sender": "from"}):
    """One captured message as it would have left: addresses, subject, both bodies and every header."""

    message_id: UUID
    campaign_id: UUID
    contact_id: UUID
    run_id: UUID | None
    to: str
    sender: str
    subject: str
    html: str
    text: str
    headers: dict[str, str]
    attempts: int
    captured_at: str
