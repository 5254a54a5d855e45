"""A campaign's report: ``GET /api/v1/campaigns/{id}/report`` (any role).

``sent`` counts the messages the campaign's runs handed over (``sent_messages``); ``events`` counts distinct
contacts per event type among the webhook events attributed to the campaign (``contact_activity``), so
rates are people, not events: an opener who opened five times is one. Both read models follow the store,
so the report is as current as the projections.
"""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from interfaces.bootstrap import Container
from interfaces.http.auth import ANY_ROLE
from interfaces.http.errors import documented
from interfaces.http.schemas.campaign_report import CampaignReportOut, RatesOut
from projections.campaign_report import unique_contacts_by_type
from projections.sent_messages import sent_count

REPORTED = ("delivered", "opened", "clicked", "bounced", "complained", "unsubscribed")


def _rate(contacts: int, sent: int) -> float | None:
    return round(contacts / sent, 4) if sent else None


def report(container: Container, campaign_id: UUID) -> CampaignReportOut:
    """The campaign's counts and rates now (``NotFound`` for an unknown campaign)."""
    container.campaigns.get(campaign_id)
    sent = sent_count(container.db, str(campaign_id))
    events = dict.fromkeys(REPORTED, 0) | unique_contacts_by_type(container.db, str(campaign_id))
    rates = RatesOut(*(_rate(events[kind], sent) for kind in ("delivered", "opened", "clicked")))
    return CampaignReportOut(campaign_id, sent, events, rates)


class CampaignReportController(Controller):
    """What a campaign's messages did (any role)."""

    path = "/campaigns/{campaign_id:uuid}/report"
    tags = ["campaigns"]
    guards = [ANY_ROLE]

    @get("/", operation_id="getCampaignReport", sync_to_thread=True, responses=documented(400, 401, 403, 404, 429))
    def read(self, campaign_id: FromPath[UUID], container: NamedDependency[Container]) -> CampaignReportOut:
        """Messages sent, distinct contacts per event type attributed to the campaign, and delivered, opened
        and clicked rates over sent (null while nothing was sent)."""
        return report(container, campaign_id)
