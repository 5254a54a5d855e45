"""The audience a run snapshots: the targeting read model's members, streamed in chunks in contact id order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from domain.campaign import Campaign
from interfaces.bootstrap import Container
from interfaces.delivery.worker import Member
from projections.audience import audience, members


def campaign_audience(
    container: Container, campaign: Campaign, now: datetime
) -> tuple[Iterable[Member], dict[str, int]]:
    """Everyone the campaign targets at ``now`` (include minus exclude minus ineligible), and each rule's removals."""
    container.settle()
    counted = audience(container.db, campaign.settings, now)
    removed = {r.rule: r.removed for r in counted.rules}

    def stream() -> Iterator[Member]:
        for chunk in members(container.db, campaign.settings, now):
            yield from (Member(r.id, r.email, r.timezone) for r in chunk)

    return stream(), removed
