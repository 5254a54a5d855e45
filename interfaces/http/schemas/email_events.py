"""Normalized email event and quarantine response shapes."""

from __future__ import annotations

from typing import Any

import msgspec


class EmailEvent(msgspec.Struct):
    """One normalized event."""

    id: str
    connection_id: str
    delivery_id: str
    type: str
    provider_event_type: str
    recipient: str
    provider_message_id: str | None
    provider_event_id: str | None
    bounce_class: str | None
    occurred_at: str
    received_at: str
    click_url: str | None
    reason: str | None
    smtp_code: str | None
    machine_open: bool | None
    user_agent: str | None
    ip: str | None
    metadata: dict[str, Any]


class EmailEventPage(msgspec.Struct):
    """A page of events; pass ``next_cursor`` as ``cursor`` for the next one (null at the end)."""

    items: list[EmailEvent]
    next_cursor: str | None


class QuarantinedItem(msgspec.Struct):
    """An item of a delivery that could not be normalized."""

    id: str
    delivery_id: str
    connection_id: str
    provider: str
    reason: str
    item: Any
    received_at: str


class QuarantinePage(msgspec.Struct):
    """A page of quarantined items."""

    items: list[QuarantinedItem]
    next_cursor: str | None
