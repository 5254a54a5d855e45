"""Expected deliveries, opens and clicks for an audience, from its own recent email history.

A past *message* is a (contact, campaign) pair with at least one email event in the window (events carry
the campaign id set at send time; events without one cannot be tied to a message and are left out).
Per message, delivered/opened/clicked count once however many such events it has, so the rates are
unique rates. Events reach contacts through the recipient's normalized address (``contact_activity``,
the per-contact copy of ``email_events``). With fewer messages than ``min_messages`` the history says
too little, and the stated default rates are used instead (``basis = "defaults"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from domain.campaign_settings import CampaignSettings
from projections.audience import audience_sql
from projections.contact_activity import TABLE as ACTIVITY
from projections.db import Database
from projections.email_events import stamp


@dataclass(frozen=True)
class Rates:
    """Shares of messages delivered, opened at least once and clicked at least once."""

    delivered: float
    opened: float
    clicked: float


@dataclass(frozen=True)
class EstimatePolicy:
    """How far back history is read, how much of it is enough, and the rates used when it is not."""

    window_days: int
    min_messages: int
    defaults: Rates


@dataclass(frozen=True)
class Estimates:
    """Expected outcomes of sending to ``recipients`` contacts, and what the rates were drawn from."""

    basis: Literal["history", "defaults"]
    window_days: int
    messages: int
    rates: Rates
    delivered: int
    opens: int
    clicks: int


def estimates(
    db: Database, settings: CampaignSettings, now: datetime, recipients: int, policy: EstimatePolicy
) -> Estimates:
    """Estimates for the campaign's audience of ``recipients`` contacts at ``now``."""
    members = audience_sql(db, settings, now)
    since, until = stamp(now - timedelta(days=policy.window_days)), stamp(now)
    per_message = (
        f"SELECT a.contact_id, a.campaign_id, "
        "MAX(CASE WHEN a.type = 'delivered' THEN 1 ELSE 0 END) AS delivered, "
        "MAX(CASE WHEN a.type = 'opened' THEN 1 ELSE 0 END) AS opened, "
        "MAX(CASE WHEN a.type = 'clicked' THEN 1 ELSE 0 END) AS clicked "
        f"FROM {ACTIVITY} a WHERE a.contact_id IN (SELECT id FROM audience) AND a.campaign_id IS NOT NULL "
        "AND a.occurred_at > ? AND a.occurred_at <= ? GROUP BY a.contact_id, a.campaign_id"
    )
    rows = db.query(
        f"{members.text}, messages AS ({per_message}) SELECT COUNT(*) AS messages, "
        "COALESCE(SUM(delivered), 0) AS delivered, COALESCE(SUM(opened), 0) AS opened, "
        "COALESCE(SUM(clicked), 0) AS clicked FROM messages",
        (*members.params, since, until),
    )
    counts = rows[0]
    messages = int(counts["messages"])
    if messages < policy.min_messages or messages == 0:
        basis: Literal["history", "defaults"] = "defaults"
        rates = policy.defaults
    else:
        basis = "history"
        rates = Rates(*(round(int(counts[k]) / messages, 4) for k in ("delivered", "opened", "clicked")))
    return Estimates(
        basis, policy.window_days, messages, rates,
        round(recipients * rates.delivered), round(recipients * rates.opened), round(recipients * rates.clicked),
    )  # fmt: skip
