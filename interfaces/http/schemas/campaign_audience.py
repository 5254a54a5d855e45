"""Campaign audience and recipient preview shapes."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec


class RuleOut(msgspec.Struct):
    """One targeting rule: how many contacts it removed and how many remained after it."""

    rule: str
    removed: int
    remaining: int


class EstimatesOut(msgspec.Struct):
    """Expected outcomes; ``basis`` says whether the rates come from this audience's history or the defaults."""

    basis: Literal["history", "defaults"]
    window_days: int
    messages: int
    delivered_rate: float
    open_rate: float
    click_rate: float
    delivered: int
    opens: int
    clicks: int


class AudienceOut(msgspec.Struct):
    """The audience size, each rule's removals in order, estimates, and the size bounds that apply."""

    count: int
    included: int
    rules: list[RuleOut]
    estimates: EstimatesOut
    min_audience: int
    max_audience: int | None
    within_limits: bool
    as_of: str
    cached: bool


class RecipientOut(msgspec.Struct):
    """One recipient in the preview."""

    id: UUID
    email: str
    timezone: str | None
    locale: str | None


class RecipientsOut(msgspec.Struct):
    """A page of recipients in contact id order; pass ``next_cursor`` back as ``cursor`` (null: last page)."""

    items: list[RecipientOut]
    next_cursor: str | None
