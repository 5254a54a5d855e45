"""``GET /api/v1/campaigns/{id}/audience`` and ``.../recipients``: who a campaign would reach now, and why not others.

The campaign's settings come from its aggregate (they hold the per-campaign audience bounds); everything
else from the read models, evaluated at the request's instant (``projections.audience``). Audience answers
are cached like segment previews (``interfaces.segment_cache``): the key holds the campaign's settings, every
read model's position and the minute, so any event or a new minute makes a new key and old entries expire.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from domain.audience_size import audience_limits
from domain.campaign_settings import CampaignSettings
from interfaces.bootstrap import Container
from interfaces.http.auth import ANY_ROLE
from interfaces.http.errors import documented
from interfaces.http.paging import bad_cursor
from interfaces.http.schemas.campaign_audience import AudienceOut, EstimatesOut, RecipientOut, RecipientsOut, RuleOut
from interfaces.segment_cache import PreviewCache
from projections.audience import MAX_LIMIT, BadCursor, audience, recipients
from projections.audience_estimates import EstimatePolicy, Rates, estimates

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT}")]
Query = Annotated[str | None, QueryParameter(max_length=320, description="a part of the email, any case")]
_ERRORS = (400, 404, 401, 403, 429)


def _settings(container: Container, campaign_id: UUID) -> CampaignSettings:
    return container.campaigns.get(campaign_id).settings  # NotFound: 404


def policy(container: Container) -> EstimatePolicy:
    """The estimate settings of this installation."""
    s = container.settings
    rates = Rates(s.estimate_delivered_rate, s.estimate_open_rate, s.estimate_click_rate)
    return EstimatePolicy(s.estimate_history_days, s.estimate_min_messages, rates)


def audience_of(
    container: Container, campaign_id: UUID, now: datetime, settings: CampaignSettings | None = None
) -> AudienceOut:
    """The campaign's audience at ``now``: count, each rule's removals, estimates and size bounds."""
    settings = settings or _settings(container, campaign_id)
    counted = audience(container.db, settings, now)
    e = estimates(container.db, settings, now, counted.count, policy(container))
    limits = audience_limits(settings, container.settings.min_audience, container.settings.max_audience)
    return AudienceOut(
        counted.count, counted.included, [RuleOut(r.rule, r.removed, r.remaining) for r in counted.rules],
        EstimatesOut(e.basis, e.window_days, e.messages, e.rates.delivered, e.rates.opened, e.rates.clicked,
                     e.delivered, e.opens, e.clicks),
        limits.minimum, limits.maximum, limits.allows(counted.count), now.isoformat(timespec="microseconds"), False,
    )  # fmt: skip


def _keyed(container: Container, campaign_id: UUID, now: datetime) -> tuple[CampaignSettings, str]:
    settings = _settings(container, campaign_id)
    positions = sorted((st.name, st.position) for st in container.runner.status())
    parts = [str(campaign_id), repr(settings), repr(positions), now.strftime("%Y-%m-%dT%H:%M")]
    return settings, "audience:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


async def cached_audience(container: Container, campaign_id: UUID, cache: PreviewCache) -> AudienceOut:
    """``audience_of`` now, or the answer given this minute over the same read-model positions."""
    now = datetime.now(UTC)
    settings, key = await sync_to_thread(_keyed, container, campaign_id, now)
    hit = await cache.get(key)
    if hit is not None:
        return msgspec.convert({**hit, "cached": True}, AudienceOut)
    out = await sync_to_thread(audience_of, container, campaign_id, now, settings)
    await cache.put(key, msgspec.to_builtins(out))
    return out


def recipients_of(
    container: Container, campaign_id: UUID, cursor: str | None, limit: int, q: str | None
) -> RecipientsOut:
    """One page of the campaign's recipients; a cursor this endpoint did not hand out is a 400."""
    settings = _settings(container, campaign_id)
    try:
        page = recipients(container.db, settings, datetime.now(UTC), cursor=cursor, limit=limit, q=q or None)
    except BadCursor as exc:
        raise bad_cursor(str(exc)) from None
    items = [RecipientOut(r.id, r.email, r.timezone, r.locale) for r in page.items]
    return RecipientsOut(items, page.next_cursor)


class CampaignAudienceController(Controller):
    """A campaign's audience and recipient preview."""

    path = "/campaigns/{campaign_id:uuid}"
    tags = ["campaigns"]

    @get("/audience", operation_id="getCampaignAudience", guards=[ANY_ROLE], responses=documented(*_ERRORS, 422))
    async def audience(
        self, campaign_id: FromPath[UUID], container: NamedDependency[Container], request: Request[Any, Any, Any]
    ) -> AudienceOut:
        """How many contacts the campaign would reach now, what each targeting rule removed, and estimates."""
        return await cached_audience(container, campaign_id, request.app.state.preview_cache)

    @get("/recipients", operation_id="listCampaignRecipients", guards=[ANY_ROLE], sync_to_thread=True,
         responses=documented(*_ERRORS, 422))  # fmt: skip
    def recipients(
        self, campaign_id: FromPath[UUID], container: NamedDependency[Container], cursor: FromQuery[str | None] = None,
        limit: Limit = 100, q: Query = None,
    ) -> RecipientsOut:  # fmt: skip
        """Recipients in contact id order, optionally only emails containing ``q`` (any case)."""
        return recipients_of(container, campaign_id, cursor, limit, q)
