"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, RedocRenderPlugin, SwaggerRenderPlugin

from interfaces.bootstrap import Container
from interfaces.http.auth import ApiKeyAuthMiddleware
from interfaces.http.builder import segment_builder, ui_asset
from interfaces.http.campaign_audience import CampaignAudienceController
from interfaces.http.campaign_lint import CampaignLintController
from interfaces.http.campaign_preview import CampaignPreviewController
from interfaces.http.campaign_progress import CampaignProgressController
from interfaces.http.campaign_report import CampaignReportController
from interfaces.http.campaigns import CampaignsController, CampaignTransitionsController
from interfaces.http.contact_imports import ContactImportsController
from interfaces.http.contacts import ContactsController
from interfaces.http.deps import DEPENDENCIES
from interfaces.http.email_events import EmailEventsController, QuarantineController
from interfaces.http.errors import exception_handlers
from interfaces.http.esp_connections import EspConnectionsController
from interfaces.http.history import HistoryController
from interfaces.http.keys import KeysController
from interfaces.http.metrics import Metrics
from interfaces.http.middleware import RequestContextMiddleware, require_json
from interfaces.http.ops import ProjectionsController, healthz, metrics, readyz
from interfaces.http.outbox import OutboxController
from interfaces.http.pages.routes import contact_pages
from interfaces.http.preference_links import PreferenceLinksController
from interfaces.http.preferences import ContactPreferencesController, PreferenceCategoriesController
from interfaces.http.resubscribe import ResubscribeRequestsController, resubscribe_pages
from interfaces.http.segments import SegmentsController
from interfaces.http.suppressions import SuppressionsController
from interfaces.http.tags import ContactTagsController, TagsController
from interfaces.http.templates import TemplatesController
from interfaces.rate_limits import MemoryRateLimiter, RedisRateLimiter
from interfaces.segment_cache import MemoryPreviewCache, RedisPreviewCache
from interfaces.webhooks.batcher import DeliveryBatcher
from interfaces.webhooks.certificates import CertificateFetcher
from interfaces.webhooks.certificates import confirm_subscription as confirm_sns_subscription
from interfaces.webhooks.replay import MemoryReplayGuard, RedisReplayGuard
from interfaces.webhooks.route import probe_webhook, receive_webhook

API_VERSION = "0.1.0"


def create_app(
    container: Container,
    *,
    run_projections: bool = False,
    confirm_subscription: Callable[[str], None] = confirm_sns_subscription,
    fetch_certificate: Callable[[str], bytes] | None = None,
) -> Litestar:
    """The HTTP app over an assembled container; optionally runs the projections in-process.

    ``confirm_subscription`` and ``fetch_certificate`` reach Amazon SNS; tests pass local stand-ins.
    """

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Clients bound to the running loop are created here, never at import.
        settings = container.settings
        app.state.redis = None
        app.state.limiter = MemoryRateLimiter()
        app.state.replay = MemoryReplayGuard()
        app.state.preview_cache = MemoryPreviewCache()
        if settings.redis_url:
            app.state.redis = aioredis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
            app.state.limiter = RedisRateLimiter(app.state.redis, settings.redis_prefix)
            app.state.replay = RedisReplayGuard(app.state.redis, settings.redis_prefix)
            app.state.preview_cache = RedisPreviewCache(app.state.redis, settings.redis_prefix)
        app.state.batcher = DeliveryBatcher(container.intake)
        app.state.batcher.start()
        if run_projections:
            container.runner.start()
        try:
            yield
        finally:
            await app.state.batcher.stop()
            if run_projections:
                container.runner.stop()
            if app.state.redis is not None:
                await app.state.redis.aclose()

    api = Router(
        path="/api/v1",
        route_handlers=[
            KeysController,
            HistoryController,
            ProjectionsController,
            EspConnectionsController,
            EmailEventsController,
            QuarantineController,
            SegmentsController,
            ContactImportsController,
            ContactsController,
            TagsController,
            ContactTagsController,
            PreferenceCategoriesController,
            ContactPreferencesController,
            PreferenceLinksController,
            ResubscribeRequestsController,
            SuppressionsController,
            TemplatesController,
            CampaignsController,
            CampaignTransitionsController,
            CampaignPreviewController,
            CampaignLintController,
            CampaignAudienceController,
            CampaignProgressController,
            CampaignReportController,
            OutboxController,
        ],
        middleware=[ApiKeyAuthMiddleware()],
        before_request=require_json,
        dependencies=DEPENDENCIES,
    )
    return Litestar(
        route_handlers=[
            api,
            healthz,
            readyz,
            metrics,
            probe_webhook,
            receive_webhook,
            segment_builder,
            ui_asset,
            contact_pages,
            resubscribe_pages,
        ],
        lifespan=[lifespan],
        middleware=[RequestContextMiddleware()],
        exception_handlers=exception_handlers(),
        request_max_body_size=container.settings.max_body_bytes,
        state=State(
            {
                "container": container,
                "metrics": Metrics(container.runner.status),
                "confirm_subscription": confirm_subscription,
                "certificates": fetch_certificate or CertificateFetcher(),
            }
        ),
        openapi_config=OpenAPIConfig(
            title="Tidings API",
            version=API_VERSION,
            description="Self-hosted email marketing. Authenticate with `Authorization: Bearer <API key>`.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(), RedocRenderPlugin(), JsonRenderPlugin()],
        ),
        logging_config=None,
    )
