"""ESP connection use cases: connect, rename, rotate webhook credentials, disable, enable."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from application.base import TidingsApplication
from domain.esp_connection import EspConnection
from domain.sending_settings import SendingSettings


class EspConnections(TidingsApplication):
    """Manage the ESP accounts webhooks arrive from."""

    def connect(
        self, name: str, provider: str, webhook: dict[str, Any], sending: SendingSettings | None = None
    ) -> EspConnection:
        """Register a connection (``webhook`` validated by the caller against the provider's settings)."""
        connection = EspConnection.connect(uuid4(), name, provider, webhook)
        if sending is not None:
            connection.configure_sending(sending)
        self.save(connection)
        return connection

    def get(self, connection_id: UUID) -> EspConnection:
        """The connection's current state."""
        connection: EspConnection = self.load(connection_id, EspConnection)
        return connection

    def rename(self, connection_id: UUID, name: str) -> EspConnection:
        """Rename a connection."""
        connection = self.get(connection_id)
        connection.rename(name)
        self.save(connection)
        return connection

    def rotate(self, connection_id: UUID, webhook: dict[str, Any], now: datetime, overlap: timedelta) -> EspConnection:
        """New webhook credentials; the previous ones stay valid for ``overlap``."""
        connection = self.get(connection_id)
        connection.rotate(webhook, now, overlap)
        self.save(connection)
        return connection

    def configure_sending(self, connection_id: UUID, settings: SendingSettings) -> EspConnection:
        """Set how the connection sends (``transport_settings`` validated by the caller against the transport)."""
        connection = self.get(connection_id)
        connection.configure_sending(settings)
        self.save(connection)
        return connection

    def disable(self, connection_id: UUID) -> EspConnection:
        """Stop accepting this connection's webhooks."""
        connection = self.get(connection_id)
        connection.disable()
        self.save(connection)
        return connection

    def enable(self, connection_id: UUID) -> EspConnection:
        """Accept this connection's webhooks again."""
        connection = self.get(connection_id)
        connection.enable()
        self.save(connection)
        return connection

    def record_subscription_request(
        self, connection_id: UUID, topic_arn: str, subscribe_url: str, confirmed: bool
    ) -> EspConnection:
        """Remember an SNS subscription handshake (pending until confirmed)."""
        connection = self.get(connection_id)
        connection.record_subscription_request(topic_arn, subscribe_url, confirmed)
        self.save(connection)
        return connection
