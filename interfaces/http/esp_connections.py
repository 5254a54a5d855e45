"""ESP connection endpoints: register, list, read, rename/rotate, disable, enable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from domain.errors import Invalid, NotFound
from domain.events import because
from domain.redaction import is_secret
from domain.sending_settings import InvalidSendingSettings, SendingSettings, clean_sending
from interfaces.bootstrap import Container
from interfaces.http.auth import ADMIN_ONLY, ANY_ROLE
from interfaces.http.errors import documented
from interfaces.http.schemas.esp_connections import (
    Connection,
    ConnectionAction,
    ConnectionCreate,
    ConnectionUpdate,
    SendingIn,
)
from interfaces.transports import registry as transports
from interfaces.webhooks.registry import all_providers
from projections.esp_connections import ConnectionRow, get_connection, list_connections

# Settings that are safe to show back; every other value is a secret and is masked.
_SHOWN = frozenset(
    {"require_sha256", "public_key", "allowed_topic_arns", "signed_url", "rate_limit_per_second", "max_body_bytes"}
)
_ERRORS = (401, 403, 429)


class UnknownProvider(Invalid):
    """Providers are the ESP adapters this installation has."""

    code = "unknown_provider"


class InvalidWebhookSettings(Invalid):
    """The webhook settings do not match what the provider needs."""

    code = "invalid_webhook_settings"


def validated(provider: str, webhook: dict[str, Any]) -> dict[str, Any]:
    """The webhook settings checked against the provider's schema, as plain JSON values."""
    adapter = all_providers().get(provider)
    if adapter is None:
        raise UnknownProvider(f"unknown provider {provider!r}", allowed=sorted(all_providers()))
    try:
        settings = msgspec.convert(webhook, adapter.Settings)
    except (msgspec.ValidationError, ValueError) as exc:
        raise InvalidWebhookSettings(f"invalid webhook settings for {provider}: {exc}", provider=provider) from None
    return dict(msgspec.to_builtins(settings))


def sending_settings(provider: str, sending: SendingIn) -> SendingSettings:
    """``sending`` with its transport settings checked against the transport's own schema."""
    kind = sending.transport or (provider if provider in transports.MODULES else None)
    settings: dict[str, Any] = {}
    if kind is not None:
        try:
            schema = transports.module(kind).Settings
        except (KeyError, ImportError):
            message = f"no transport {kind!r}; there are {sorted(transports.MODULES)}"
            raise InvalidSendingSettings(message, field="transport") from None
        try:
            settings = dict(msgspec.to_builtins(msgspec.convert(sending.transport_settings, schema)))
        except (msgspec.ValidationError, ValueError) as exc:
            message = f"invalid transport settings for {kind}: {exc}"
            raise InvalidSendingSettings(message, field="transport_settings") from None
    elif sending.transport_settings:
        raise InvalidSendingSettings("transport_settings need a transport", field="transport")
    return clean_sending(
        SendingSettings(tuple(sending.domains), sending.rate_per_second, sending.concurrency, kind, settings)
    )


def _masked_sending(sending: dict[str, Any]) -> dict[str, Any]:
    if not sending:
        return {}
    shown = {k: ("[secret]" if is_secret(k) else v) for k, v in sending.get("transport_settings", {}).items()}
    return {**sending, "transport_settings": shown}


def _masked(webhook: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if k in _SHOWN else "[secret]") for k, v in webhook.items() if v is not None}


def _out(row: ConnectionRow) -> Connection:
    overlap = row.previous_valid_until if row.previous_webhook else None
    return Connection(
        row.id, row.name, row.provider, row.enabled, f"/webhooks/{row.id}", _masked(row.webhook), overlap,
        row.pending_subscription, row.created_at, row.updated_at, _masked_sending(row.sending),
    )  # fmt: skip


def _settled(container: Container, connection_id: UUID) -> Connection:
    container.settle()
    container.connection_cache.forget(connection_id)
    row = get_connection(container.db, connection_id)
    if row is None:
        raise NotFound(f"ESP connection {connection_id} not found")
    return _out(row)


class EspConnectionsController(Controller):
    """The ESP accounts whose webhooks Tidings receives."""

    path = "/esp-connections"
    tags = ["esp connections"]

    @post("/", operation_id="createEspConnection", guards=[ADMIN_ONLY], sync_to_thread=True,
          responses=documented(400, 415, 422, *_ERRORS))  # fmt: skip
    def create(self, data: JSONBody[ConnectionCreate], container: NamedDependency[Container]) -> Connection:
        """Register a connection; its webhook URL is in the response."""
        with because(data.reason):
            webhook = validated(data.provider, data.webhook)
            sending = sending_settings(data.provider, data.sending) if data.sending else None
            connection = container.connections.connect(data.name, data.provider, webhook, sending)
        return _settled(container, connection.id)

    @get("/", operation_id="listEspConnections", guards=[ANY_ROLE], sync_to_thread=True,
         responses=documented(400, *_ERRORS))  # fmt: skip
    def list(self, container: NamedDependency[Container]) -> list[Connection]:
        """All connections (secrets masked)."""
        return [_out(r) for r in list_connections(container.db)]

    @get("/{connection_id:uuid}", operation_id="getEspConnection", guards=[ANY_ROLE], sync_to_thread=True,
         responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def read(self, connection_id: FromPath[UUID], container: NamedDependency[Container]) -> Connection:
        """One connection, with any pending SNS subscription."""
        row = get_connection(container.db, connection_id)
        if row is None:
            raise NotFound(f"ESP connection {connection_id} not found")
        return _out(row)

    @patch("/{connection_id:uuid}", operation_id="updateEspConnection", guards=[ADMIN_ONLY], sync_to_thread=True,
           responses=documented(400, 404, 409, 415, 422, *_ERRORS))  # fmt: skip
    def update(
        self, connection_id: FromPath[UUID], data: JSONBody[ConnectionUpdate], container: NamedDependency[Container]
    ) -> Connection:
        """Rename, rotate webhook credentials (both old and new verify during the overlap), set up sending."""
        with because(data.reason):
            if data.name is not None:
                container.connections.rename(connection_id, data.name)
            if data.webhook is not None:
                current = container.connections.get(connection_id)
                webhook = validated(current.provider, data.webhook)
                overlap = timedelta(seconds=data.overlap_seconds)
                container.connections.rotate(connection_id, webhook, datetime.now(UTC), overlap)
            if data.sending is not None:
                provider = container.connections.get(connection_id).provider
                container.connections.configure_sending(connection_id, sending_settings(provider, data.sending))
        return _settled(container, connection_id)

    @post("/{connection_id:uuid}/disable", operation_id="disableEspConnection", guards=[ADMIN_ONLY], status_code=200,
          sync_to_thread=True, responses=documented(400, 404, 409, 415, *_ERRORS))  # fmt: skip
    def disable(
        self, connection_id: FromPath[UUID], container: NamedDependency[Container],
        data: JSONBody[ConnectionAction | None] = None,
    ) -> Connection:  # fmt: skip
        """Stop accepting this connection's webhooks (they get 404)."""
        with because(data.reason if data else None):
            container.connections.disable(connection_id)
        return _settled(container, connection_id)

    @post("/{connection_id:uuid}/enable", operation_id="enableEspConnection", guards=[ADMIN_ONLY], status_code=200,
          sync_to_thread=True, responses=documented(400, 404, 415, *_ERRORS))  # fmt: skip
    def enable(
        self, connection_id: FromPath[UUID], container: NamedDependency[Container],
        data: JSONBody[ConnectionAction | None] = None,
    ) -> Connection:  # fmt: skip
        """Accept this connection's webhooks again."""
        with because(data.reason if data else None):
            container.connections.enable(connection_id)
        return _settled(container, connection_id)
