"""Unique contacts per email event type a campaign's messages caused (a query, no tables of its own).

Reads ``contact_activity``, whose rows name the campaign an event is attributed to (by our metadata, else
through the provider's message id in ``sent_messages``; messages sent are ``sent_messages.sent_count``).
A contact counts once per type however many events of that type it had: a second open is no new reader.
"""

from __future__ import annotations

from projections.contact_activity import TABLE as ACTIVITY
from projections.db import Database


def unique_contacts_by_type(db: Database, campaign_id: str) -> dict[str, int]:
    """Event type -> how many distinct contacts had at least one event of it attributed to the campaign."""
    rows = db.query(
        f"SELECT type, COUNT(DISTINCT contact_id) AS n FROM {ACTIVITY} WHERE campaign_id = ? GROUP BY type",
        (campaign_id,),
    )
    return {str(r["type"]): int(r["n"]) for r in rows}
