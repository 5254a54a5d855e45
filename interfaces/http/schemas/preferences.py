"""Preference category, contact preference, eligibility and suppression request and response shapes.

Values the domain checks (keys, frequencies, pauses, addresses, reasons) are loosely typed here, so a bad
value is a 422 naming the field in the terms of the documented rules rather than a generic 400.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

Reason = Annotated[str, msgspec.Meta(max_length=500, description="Why; recorded in the audit log")]
Key = Annotated[str, msgspec.Meta(max_length=100, description="[a-z0-9][a-z0-9_-]*, at most 64 characters")]
FREQUENCY_HELP = (
    'null (no cap), {"max": N, "per": "day"|"week"|"month"} with N from 1 to 1000, '
    'or {"digest": "daily"|"weekly"|"monthly"}'
)


class PreferenceCategory(msgspec.Struct):
    """A topic contacts opt in to or out of."""

    key: str
    name: str
    description: str
    default_subscribed: bool
    archived: bool
    created_at: str


class PreferenceCategoryCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Define a category; ``default_subscribed`` applies to contacts who made no choice."""

    key: Key
    name: Annotated[str, msgspec.Meta(max_length=200)]
    description: Annotated[str, msgspec.Meta(max_length=2_000)] = ""
    default_subscribed: bool = True
    reason: Reason | None = None


class PreferenceCategoryUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Change any of name, description and default; ``archived: true`` retires it (for good)."""

    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=2_000)] | None = None
    default_subscribed: bool | None = None
    archived: bool | None = None
    reason: Reason | None = None


class CategoryPreference(msgspec.Struct):
    """One category for one contact: ``subscribed`` is the explicit choice (``explicit``), else the default."""

    key: str
    name: str
    description: str
    subscribed: bool
    explicit: bool
    default_subscribed: bool
    archived: bool


class ContactPreferences(msgspec.Struct):
    """A contact's preferences. A global opt-out overrides every category without erasing the choices.

    ``as_of`` and ``version`` are set when the state was rebuilt for a past instant (``?at=``).
    """

    contact_id: UUID
    opted_out: bool
    frequency: dict[str, Any] | None
    paused_until: str | None
    categories: list[CategoryPreference]
    updated_at: str | None
    last_effective_at: str | None
    as_of: datetime | None = None
    version: int | None = None


class ContactPreferencesUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Change some settings at once; members left out keep their values (``null`` clears frequency and pause)."""

    opted_out: bool | None = None
    categories: Annotated[dict[str, Any], msgspec.Meta(description="category key -> true (subscribe) / false")] = (
        msgspec.field(default_factory=dict)
    )
    frequency: Annotated[dict[str, Any] | None, msgspec.Meta(description=FREQUENCY_HELP)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    paused_until: Annotated[datetime | None, msgspec.Meta(description="ISO 8601 with offset")] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    reason: Reason | None = None


class PreferenceChange(msgspec.Struct):
    """One recorded change to a contact's preferences or to the suppression of their address."""

    aggregate: str  # "preferences" or "suppression"
    type: str
    version: int
    timestamp: datetime
    actor: str
    request_id: str | None
    reason: str | None
    source: str | None
    effective_at: datetime | None
    cause: str | None
    changes: dict[str, Any]


class PreferencesHistory(msgspec.Struct):
    """Every change, oldest first: who (actor), through what (source), when, why (reason) and what."""

    contact_id: UUID
    events: list[PreferenceChange]


class Eligibility(msgspec.Struct):
    """Whether a message of ``category`` may go to the contact now, and why not."""

    contact_id: UUID
    category: str | None
    eligible: bool
    reason: str | None
    details: dict[str, Any]
    checked_at: datetime


class Suppression(msgspec.Struct):
    """A suppressed address."""

    address: str
    contact_id: UUID
    reason: str
    source: str
    cause: str | None
    suppressed_at: str


class SuppressionCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Suppress an address (whether or not it is a contact). ``note`` is recorded as the audit log's why."""

    address: Annotated[str, msgspec.Meta(max_length=320)]
    reason: Annotated[str, msgspec.Meta(description="hard_bounce, complaint, manual, esp or soft_bounces")] = "manual"
    note: Reason | None = None


class SuppressionPage(msgspec.Struct):
    """A page of suppressions by address; pass ``next_cursor`` as ``cursor`` for the next one (null at the end)."""

    items: list[Suppression]
    next_cursor: str | None
