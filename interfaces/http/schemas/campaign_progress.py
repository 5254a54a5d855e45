"""Delivery progress shapes: per run and over all a campaign's runs."""

from __future__ import annotations

from uuid import UUID

import msgspec


class CountsOut(msgspec.Struct):
    """Messages per status; ``remaining`` is pending plus in flight."""

    audience: int
    sent: int
    failed: int
    skipped: int
    pending: int
    in_flight: int
    remaining: int


class RunProgress(msgspec.Struct):
    """One run (one occurrence's audience snapshot); ``outcome`` is set once the worker closed it."""

    run_id: UUID
    occurrence: str
    audience: int
    sent: int
    failed: int
    skipped: int
    pending: int
    in_flight: int
    remaining: int
    outcome: str | None
    finished: bool


class ProgressOut(msgspec.Struct):
    """Where a campaign's delivery stands, how fast it goes and when it should be done.

    ``rate_per_second`` counts messages settled (sent or failed) in the last minute; ``eta_seconds`` is null
    when nothing remains or nothing was settled in that minute.
    """

    campaign_id: UUID
    state: str
    runs: list[RunProgress]
    totals: CountsOut
    rate_per_second: float
    eta_seconds: float | None
