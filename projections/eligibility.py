"""May we send category C to contact X now? One answer, with the reason when not (ADR 0004 §4).

Checked in a fixed order, the first failing rule wins: ``no_such_contact``, ``suppressed``, ``opted_out``,
``unsubscribed_from_category``, ``paused``, ``frequency_cap``. Targeting asks before building a send list
and delivery asks again right before each message, so a change in between still counts.

Frequency caps are provisional until delivery (issue 7) keeps its own sent-messages read model: the
messages already sent are the contact's ``accepted``/``delivered`` events in ``contact_activity`` within
the rolling window ending at ``now`` (a day is 24 hours, a week 7 days, a month 30 days), counted as
distinct (campaign, UTC day) pairs because one message may produce both events; events without a
campaign count as one message per day. A digest preset caps at one message per its period.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from domain.preference_category import UnknownCategory
from projections.contact_activity import TABLE as ACTIVITY
from projections.contacts import TABLE as CONTACTS
from projections.db import Database
from projections.email_events import stamp
from projections.preferences import CATEGORIES, CHOICES
from projections.preferences import TABLE as PREFERENCES
from projections.suppressions import TABLE as SUPPRESSIONS

WINDOWS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}
DIGEST_PERIODS = {"daily": "day", "weekly": "week", "monthly": "month"}
SENT_TYPES = ("accepted", "delivered")


class IneligibleReason(StrEnum):
    """Why a message may not go out, in the order the rules are checked."""

    NO_SUCH_CONTACT = "no_such_contact"
    SUPPRESSED = "suppressed"
    OPTED_OUT = "opted_out"
    UNSUBSCRIBED_FROM_CATEGORY = "unsubscribed_from_category"
    PAUSED = "paused"
    FREQUENCY_CAP = "frequency_cap"


@dataclass(frozen=True)
class Eligible:
    """The message may go out."""

    eligible: Literal[True] = True


@dataclass(frozen=True)
class Ineligible:
    """The message may not go out, and why (``details`` say more: the suppression reason, the pause end...)."""

    reason: IneligibleReason
    details: dict[str, Any] = field(default_factory=dict)
    eligible: Literal[False] = False


# Everything but the frequency count in one round trip; the LEFT JOINs keep a row for any existing contact.
_FACTS = f"""
SELECT c.id, s.reason AS suppression, p.opted_out, p.paused_until, p.frequency,
       ch.subscribed AS choice, cat.default_subscribed, cat.key AS category
FROM {CONTACTS} c
LEFT JOIN {SUPPRESSIONS} s ON s.contact_id = c.id
LEFT JOIN {PREFERENCES} p ON p.contact_id = c.id
LEFT JOIN {CHOICES} ch ON ch.contact_id = c.id AND ch.category = ?
LEFT JOIN {CATEGORIES} cat ON cat.key = ?
WHERE c.id = ?
"""


def eligibility(db: Database, contact_id: UUID, category: str | None, now: datetime) -> Eligible | Ineligible:
    """Whether a message of ``category`` (None: no category) may go to the contact at ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rows = db.query(_FACTS, (category or "", category or "", str(contact_id)))
    if not rows:
        return Ineligible(IneligibleReason.NO_SUCH_CONTACT)
    return _judge(db, contact_id, rows[0], category, now)


def eligibility_many(
    db: Database, contact_ids: Sequence[UUID], category: str | None, now: datetime
) -> dict[UUID, Eligible | Ineligible]:
    """``eligibility`` for many contacts in one round trip (plus one per contact with a frequency cap)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    verdicts: dict[UUID, Eligible | Ineligible] = {c: Ineligible(IneligibleReason.NO_SUCH_CONTACT) for c in contact_ids}
    ids = [str(c) for c in contact_ids]
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        query = _FACTS.replace("WHERE c.id = ?", f"WHERE c.id IN ({', '.join('?' for _ in chunk)})")
        for facts in db.query(query, (category or "", category or "", *chunk)):
            contact_id = UUID(facts["id"])
            verdicts[contact_id] = _judge(db, contact_id, facts, category, now)
    return verdicts


def _judge(
    db: Database, contact_id: UUID, facts: dict[str, Any], category: str | None, now: datetime
) -> Eligible | Ineligible:
    if category is not None and facts["category"] is None:
        raise UnknownCategory(f"no preference category {category!r}", key=category, field="category")
    if facts["suppression"] is not None:
        return Ineligible(IneligibleReason.SUPPRESSED, {"suppression_reason": facts["suppression"]})
    if facts["opted_out"]:
        return Ineligible(IneligibleReason.OPTED_OUT)
    if category is not None and not _subscribed(facts):
        return Ineligible(IneligibleReason.UNSUBSCRIBED_FROM_CATEGORY, {"category": category})
    if facts["paused_until"] and facts["paused_until"] > stamp(now):
        return Ineligible(IneligibleReason.PAUSED, {"paused_until": facts["paused_until"]})
    return _frequency(db, contact_id, facts["frequency"], now)


def _subscribed(facts: dict[str, Any]) -> bool:
    choice = facts["choice"]
    return bool(facts["default_subscribed"] if choice is None else choice)


def _frequency(db: Database, contact_id: UUID, frequency_text: str | None, now: datetime) -> Eligible | Ineligible:
    if not frequency_text:
        return Eligible()
    frequency = json.loads(frequency_text)
    per = frequency.get("per") or DIGEST_PERIODS[frequency["digest"]]
    limit = int(frequency.get("max", 1))
    sent = sent_within(db, contact_id, now - WINDOWS[per], now)
    if sent >= limit:
        return Ineligible(IneligibleReason.FREQUENCY_CAP, {"sent": sent, "max": limit, "per": per})
    return Eligible()


def sent_within(db: Database, contact_id: UUID, since: datetime, until: datetime) -> int:
    """Messages sent to the contact in ``(since, until]``, by the provisional count the module describes."""
    marks = ", ".join("?" for _ in SENT_TYPES)
    rows = db.query(
        f"SELECT COUNT(DISTINCT COALESCE(campaign_id, '') || '|' || substr(occurred_at, 1, 10)) AS n FROM {ACTIVITY} "
        f"WHERE contact_id = ? AND type IN ({marks}) AND occurred_at > ? AND occurred_at <= ?",
        (str(contact_id), *SENT_TYPES, stamp(since), stamp(until)),
    )
    return int(rows[0]["n"])
