"""POST /webhooks/{connection_id}: verify the raw bytes, parse, store durably, then acknowledge.

Order matters: connection → rate limit → content type → size → verify (raw bytes) → parse → store →
2xx. Nothing from a rejected request is stored. Items of a batch that cannot be normalized are
quarantined and the batch is still accepted, so the ESP does not retry it forever.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, head, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath

from application.intake import Delivery
from domain.email_event import NormalizedEvent, Quarantined
from interfaces.bootstrap import Container
from interfaces.http.errors import RateLimited, documented
from interfaces.logs import request_id_var
from interfaces.rate_limits import retry_after_header
from interfaces.webhooks.batcher import QueueFull
from interfaces.webhooks.provider import (
    Handshake,
    Provider,
    VerificationFailed,
    Verified,
    VerifyContext,
    WebhookRequest,
)
from interfaces.webhooks.recorded import recorded
from interfaces.webhooks.registry import get_provider
from projections.esp_connections import ConnectionRow

# Small bodies verify and parse in well under a millisecond: a thread hop would cost more than it saves.
INLINE_BYTES = 16_384
# Headers that may carry credentials are never stored with the raw request.
_NOT_STORED = frozenset({"authorization", "cookie", "proxy-authorization"})


class WebhookAck(msgspec.Struct):
    """What the ESP gets back once the delivery is durably stored."""

    status: str
    delivery_id: UUID | None = None
    events: int = 0
    quarantined: int = 0


@post(
    "/webhooks/{connection_id:uuid}", operation_id="receiveWebhook", tags=["webhooks"], status_code=200,
    request_max_body_size=None, responses=documented(400, 401, 404, 413, 415, 429, 503),
)  # fmt: skip
async def receive_webhook(connection_id: FromPath[UUID], request: Request[Any, Any, Any], state: State) -> WebhookAck:
    """Receive one ESP delivery (a single event or a batch)."""
    container: Container = state.container
    connection, provider = await _connection(container, connection_id)
    settings = [msgspec.convert(w, provider.Settings) for w in connection.active_webhooks(datetime.now(UTC))]
    await _rate_limit(state, connection_id, settings[0], container.settings.webhook_rate_per_second)
    _check_content_type(request, provider)
    body = await _read_body(request, settings[0].max_body_bytes or container.settings.webhook_max_body_bytes)
    raw = WebhookRequest(str(request.url), {k.lower(): v for k, v in request.headers.items()}, body)
    ctx = VerifyContext(now=datetime.now(UTC), fetch_certificate=state.certificates)
    if len(body) <= INLINE_BYTES:
        verified, parsed = _verify_and_parse(provider, raw, settings, ctx)
    else:
        verified, parsed = await sync_to_thread(_verify_and_parse, provider, raw, settings, ctx)
    if verified.replay_key and await state.replay.seen(verified.replay_key):
        return WebhookAck("duplicate")
    if isinstance(parsed, Handshake):
        return await _handshake(state, connection, parsed)
    delivery = _delivery(connection, raw, verified, parsed)
    try:
        await state.batcher.record(delivery)
    except QueueFull as exc:
        raise HTTPException(status_code=503, detail=str(exc), headers={"Retry-After": "5"}) from None
    if verified.replay_key:
        await state.replay.remember(verified.replay_key, verified.replay_ttl)
    return WebhookAck("accepted", delivery.delivery_id, len(delivery.events), len(delivery.quarantined))


@head("/webhooks/{connection_id:uuid}", operation_id="probeWebhook", tags=["webhooks"], responses=documented(404))
async def probe_webhook(connection_id: FromPath[UUID], state: State) -> None:
    """ESPs (Mandrill) check that a webhook URL exists before they use it."""
    await _connection(state.container, connection_id)


async def _connection(container: Container, connection_id: UUID) -> tuple[ConnectionRow, Provider]:
    cache = container.connection_cache
    connection = cache.cached(connection_id) or await sync_to_thread(cache.load, connection_id)
    provider = get_provider(connection.provider) if connection else None
    if connection is None or not connection.enabled or provider is None:
        raise NotFoundException("unknown or disabled ESP connection")
    return connection, provider


async def _rate_limit(state: State, connection_id: UUID, settings: Any, default_rate: float) -> None:
    rate = settings.rate_limit_per_second or default_rate
    decision = await state.limiter.hit(f"webhook:{connection_id}", rate, max(1, int(rate * 2)))
    if not decision.allowed:
        raise RateLimited(
            detail="rate limit exceeded for this ESP connection",
            headers={"Retry-After": retry_after_header(decision)},
            extra={"retry_after_seconds": decision.retry_after},
        )


def _check_content_type(request: Request[Any, Any, Any], provider: Provider) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in provider.CONTENT_TYPES:
        raise HTTPException(
            status_code=415,
            detail=f"{provider.NAME} webhooks must be sent as {' or '.join(provider.CONTENT_TYPES)}",
            extra={"content_type": media_type or None},
        )


async def _read_body(request: Request[Any, Any, Any], limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status_code=413, detail=f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status_code=413, detail=f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _verify_and_parse(
    provider: Provider, raw: WebhookRequest, settings: list[Any], ctx: VerifyContext
) -> tuple[Verified, list[NormalizedEvent | Quarantined] | Handshake]:
    # Every active credential is tried (rotation); the newest one's error is the one reported.
    failure: VerificationFailed | None = None
    for candidate in settings:
        try:
            verified = provider.verify(raw, candidate, ctx)
            break
        except VerificationFailed as exc:
            failure = failure or exc
    else:
        assert failure is not None
        raise failure
    return verified, provider.parse(raw)


def _delivery(connection: ConnectionRow, raw: WebhookRequest, verified: Verified, parsed: list[Any]) -> Delivery:
    events, quarantined = recorded(raw.body, parsed)
    return Delivery(
        delivery_id=uuid.uuid4(),
        connection_id=connection.id,
        provider=connection.provider,
        headers={k: v for k, v in raw.headers.items() if k not in _NOT_STORED},
        body=raw.body.decode("utf-8", errors="replace"),
        verified_by=verified.method,
        request_id=request_id_var.get(),
        events=events,
        quarantined=quarantined,
    )


async def _handshake(state: State, connection: ConnectionRow, handshake: Handshake) -> WebhookAck:
    if handshake.kind != "subscription_confirmation":
        return WebhookAck("ignored")
    url, topic = str(handshake.details["subscribe_url"]), str(handshake.details["topic_arn"])
    try:
        await sync_to_thread(state.confirm_subscription, url)
        confirmed = True
    except Exception:  # left pending: visible via the API, confirmable by hand
        confirmed = False
    await sync_to_thread(state.container.connections.record_subscription_request, connection.id, topic, url, confirmed)
    return WebhookAck("subscription_confirmed" if confirmed else "subscription_pending")
