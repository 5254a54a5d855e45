"""Campaign request and response shapes.

Fields the domain checks (addresses, category keys, subject lines) are loosely typed here, so a bad value is a
422 naming the field in the terms of the documented rules rather than a generic 400. Absent fields keep their
value; ``null`` clears a nullable one.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from interfaces.http.schemas.keys import Name, Reason

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET
Body = Annotated[str, msgspec.Meta(max_length=1_000_000)]
Line = Annotated[str, msgspec.Meta(max_length=2_000)]
Segments = Annotated[list[UUID], msgspec.Meta(max_length=100)]
Comment = Annotated[str, msgspec.Meta(max_length=2_000, description="Recorded on the transition; shown to the team")]


class CampaignFields(msgspec.Struct, forbid_unknown_fields=True):
    """Every editable campaign field; content fields (subject ... template_id) make a new content version."""

    notes: Annotated[str, msgspec.Meta(max_length=10_000)] | Unset = UNSET
    category: Line | Unset | None = UNSET
    esp_connection_id: UUID | Unset | None = UNSET
    from_name: Line | Unset = UNSET
    from_address: Line | Unset | None = UNSET
    reply_to: Line | Unset | None = UNSET
    include_segments: Segments | Unset = UNSET
    exclude_segments: Segments | Unset = UNSET
    min_audience: Annotated[int, msgspec.Meta(description="null: the global TIDINGS_MIN_AUDIENCE")] | Unset | None = (
        UNSET
    )
    max_audience: Annotated[int, msgspec.Meta(description="null: the global TIDINGS_MAX_AUDIENCE")] | Unset | None = (
        UNSET
    )
    subject: Line | Unset = UNSET
    preheader: Line | Unset = UNSET
    html: Body | Unset = UNSET
    text: Annotated[Body, msgspec.Meta(description="null: generated from the HTML")] | Unset | None = UNSET
    template_id: Annotated[UUID | None, msgspec.Meta(description="Pins the template's newest layout")] | Unset = UNSET
    reason: Reason | None = None

    def values(self) -> dict[str, Any]:
        """The fields the request gave, as the application takes them."""
        given = {f: getattr(self, f) for f in self.__struct_fields__ if f != "reason"}
        return {k: v for k, v in given.items() if v is not UNSET}


class CampaignCreate(CampaignFields, forbid_unknown_fields=True, kw_only=True):
    """Save a new draft; its content becomes version 1."""

    name: Name


class CampaignUpdate(CampaignFields, forbid_unknown_fields=True):
    """Change fields; a content change after submission or approval returns the campaign to draft."""

    name: Name | Unset = UNSET


class Transition(msgspec.Struct, forbid_unknown_fields=True):
    """Move a campaign along its workflow."""

    reason: Reason | None = None
    comment: Comment | None = None


class Approval(Transition, forbid_unknown_fields=True):
    """Approve; ``version`` is the version the approver reviewed (refused with 409 when it is no longer current)."""

    version: int | None = None


class QuietHoursIn(msgspec.Struct, forbid_unknown_fields=True):
    """A daily local window without sends, e.g. 21:00 to 08:00 (wraps midnight)."""

    start: time
    end: time


class Schedule(Transition, forbid_unknown_fields=True, kw_only=True):
    """Plan the send: ``scheduled_at`` alone sends at that instant; ``kind`` picks the other plans.

    - ``now``: at once;
    - ``at``: at ``scheduled_at``;
    - ``local``: at wall-clock ``wall`` in each recipient's zone (``zone`` for contacts without one);
    - ``recurring``: by ``rrule`` (RFC 5545, e.g. ``FREQ=WEEKLY;BYDAY=MO``) from wall-clock ``wall`` in ``zone``.
    ``quiet_hours`` apply to every plan, in the recipient's zone.
    """

    kind: Literal["now", "at", "local", "recurring"] | None = None
    scheduled_at: Annotated[datetime, msgspec.Meta(description="ISO 8601 with offset")] | None = None
    wall: Annotated[datetime, msgspec.Meta(description="local date and time, no offset")] | None = None
    zone: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    rrule: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    quiet_hours: QuietHoursIn | None = None


class Settings(msgspec.Struct):
    """Who a campaign is from, through which ESP connection, in which category, to whom."""

    category: str | None
    esp_connection_id: str | None
    from_name: str
    from_address: str | None
    reply_to: str | None
    include_segments: list[str]
    exclude_segments: list[str]


class Version(msgspec.Struct):
    """One immutable content version."""

    version: int
    subject: str
    preheader: str
    html: str
    text: str | None
    template_id: UUID | None
    template_version: int | None
    content_hash: str
    author: str
    created_at: str
    restored_from: int | None


class VersionSummary(msgspec.Struct):
    """A content version without its bodies."""

    version: int
    subject: str
    content_hash: str
    author: str
    created_at: str
    restored_from: int | None


class CampaignOut(msgspec.Struct):
    """A campaign with its current content; ``allowed`` lists the actions possible now."""

    id: UUID
    name: str
    notes: str
    state: str
    allowed: list[str]
    paused_from: str | None
    settings: Settings
    content: Version
    approved_version: int | None
    approved_by: str | None
    approved_at: str | None
    scheduled_at: str | None
    created_at: str
    created_by: str
    updated_at: str
    # The send plan while scheduled or sending (kind, wall, zone, rrule, quiet_hours; see docs/scheduling.md);
    # None for a plain instant or when nothing is planned.
    plan: dict[str, Any] | None = None


class CampaignSummary(msgspec.Struct):
    """A campaign as listed."""

    id: UUID
    name: str
    state: str
    current_version: int
    approved_version: int | None
    scheduled_at: str | None
    created_at: str
    updated_at: str


class FieldDiff(msgspec.Struct):
    """A unified diff of one content field."""

    field: str
    diff: str


class Diff(msgspec.Struct):
    """What changed from one content version to another (fields that did not change are left out)."""

    campaign_id: UUID
    from_version: int
    to_version: int
    changes: list[FieldDiff]


class Review(msgspec.Struct):
    """One step of the review trail."""

    action: str
    version: int
    actor: str
    role: str | None
    comment: str | None
    reason: str | None
    at: str
