"""Campaign report shapes: messages sent, unique contacts per event type, and rates over sent."""

from __future__ import annotations

from uuid import UUID

import msgspec


class RatesOut(msgspec.Struct):
    """Unique contacts with the event over messages sent, from 0 to 1; null while nothing was sent."""

    delivered: float | None
    opened: float | None
    clicked: float | None


class CampaignReportOut(msgspec.Struct):
    """What a campaign's messages did.

    ``events`` maps each email event type to the number of distinct contacts that had one attributed to the
    campaign: delivered, opened, clicked, bounced, complained and unsubscribed always appear (0 when none),
    any other type once one arrived.
    """

    campaign_id: UUID
    sent: int
    events: dict[str, int]
    rates: RatesOut
