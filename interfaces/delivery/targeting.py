"""The audience a run snapshots: the targeting read model's recipients, page by page, in contact id order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from domain.campaign import Campaign
from interfaces.bootstrap import Container
from interfaces.delivery.worker import Member
from projections.audience import MAX_LIMIT, audience, recipients


def campaign_audience(
    container: Container, campaign: Campaign, now: datetime
) -> tuple[Iterable[Member], dict[str, int]]:
    """Everyone the campaign targets at ``now`` (include minus exclude minus ineligible), and each rule's removals."""
    container.settle()
    counted = audience(container.db, campaign.settings, now)
    removed = {r.rule: r.removed for r in counted.rules}

    def members() -> Iterator[Member]:
        cursor = None
        while True:
            page = recipients(container.db, campaign.settings, now, cursor=cursor, limit=MAX_LIMIT)
            yield from (Member(r.id, r.email, r.timezone) for r in page.items)
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    return members(), removed
