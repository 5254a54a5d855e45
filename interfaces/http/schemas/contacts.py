"""Contact and contact import request and response shapes."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec

from interfaces.http.schemas.email_events import EmailEvent

Reason = Annotated[str, msgspec.Meta(max_length=500, description="Why; recorded in the audit log")]
# Values are checked by the domain (typed, with the attribute named in a 422), not here: a 400 from the
# decoder could not say which attribute was wrong in the terms of the documented typing rules.
Attributes = Annotated[
    dict[str, Any],
    msgspec.Meta(description="Custom fields: string, number, boolean or ISO 8601 date string; null removes one"),
]
Timezone = Annotated[str | None, msgspec.Meta(description="IANA time zone such as Europe/Paris; null clears it")]
Locale = Annotated[str | None, msgspec.Meta(description="BCP 47 tag such as fr-CA; null clears it")]


class ContactCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Create or update the contact of this address; fields left out keep their values."""

    email: str
    attributes: Attributes = msgspec.field(default_factory=dict)
    timezone: Timezone | msgspec.UnsetType = msgspec.UNSET
    locale: Locale | msgspec.UnsetType = msgspec.UNSET
    reason: Reason | None = None


class ContactUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Change some fields of a contact (the address is its identity and cannot change)."""

    attributes: Attributes = msgspec.field(default_factory=dict)
    timezone: Timezone | msgspec.UnsetType = msgspec.UNSET
    locale: Locale | msgspec.UnsetType = msgspec.UNSET
    reason: Reason | None = None


class Contact(msgspec.Struct):
    """A contact."""

    id: UUID
    email: str
    email_domain: str
    timezone: str | None
    locale: str | None
    attributes: dict[str, Any]
    created_at: str
    updated_at: str


class ContactPage(msgspec.Struct):
    """A page of contacts; pass ``next_cursor`` as ``cursor`` for the next one (null at the end)."""

    items: list[Contact]
    next_cursor: str | None


class ContactEventPage(msgspec.Struct):
    """A contact's normalized email events, oldest first."""

    items: list[EmailEvent]
    next_cursor: str | None


class RowError(msgspec.Struct):
    """Why one row of an import was rejected."""

    row: int
    field: str | None
    message: str


class ContactImport(msgspec.Struct):
    """An import job: progress counts, status, and the first rejected rows in full."""

    id: UUID
    format: str
    source: str
    status: str
    size_bytes: int
    bytes_read: int
    rows_read: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    failure: str | None
    started_by: str
    started_at: str
    updated_at: str
    finished_at: str | None
    errors: list[RowError] = msgspec.field(default_factory=list)
    errors_truncated: bool = False
