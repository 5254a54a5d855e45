"""An ESP connection: one account at one ESP, whose webhooks arrive at /webhooks/<id>."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import event

from domain.api_key import clean_name
from domain.errors import Invalid, RuleViolated
from domain.events import TidingsAggregate
from domain.sending_settings import SendingSettings, clean_sending

MAX_OVERLAP = timedelta(days=30)


class ConnectionDisabled(RuleViolated):
    """A disabled connection accepts no changes but being enabled again."""

    code = "connection_disabled"


class InvalidOverlap(Invalid):
    """Old webhook settings may stay valid for 0 to 30 days after a rotation."""

    code = "invalid_overlap"


class EspConnection(TidingsAggregate):
    """Which ESP, which webhook credentials (current and, during a rotation, previous), enabled or not."""

    # The webhook settings hold the ESP's secrets; the audit log shows that they changed, not their values.
    redacted: ClassVar[frozenset[str]] = frozenset({"webhook", "transport_settings"})

    @classmethod
    def connect(cls, connection_id: UUID, name: str, provider: str, webhook: dict[str, Any]) -> EspConnection:
        """A new, enabled connection (``webhook`` already validated against the provider's settings)."""
        return cls(id=connection_id, name=clean_name(name), provider=provider, webhook=webhook)

    @event("Connected")
    def __init__(self, id: UUID, name: str, provider: str, webhook: dict[str, Any]) -> None:  # noqa: A002
        self.name = name
        self.provider = provider
        self.webhook = webhook
        self.previous_webhook: dict[str, Any] | None = None
        self.previous_valid_until: datetime | None = None
        self.enabled = True
        self.pending_subscription: dict[str, Any] | None = None
        self.sending = SendingSettings()

    @property
    def sending_domains(self) -> tuple[str, ...]:
        """Domains a from-address may use through this connection."""
        return self.sending.domains

    def configure_sending(self, settings: SendingSettings) -> None:
        """Set the sending domains, throttle and transport (``transport_settings`` validated by the caller)."""
        cleaned = clean_sending(settings)
        if cleaned != self.sending:
            self._sending_configured(
                domains=list(cleaned.domains), rate_per_second=cleaned.rate_per_second,
                concurrency=cleaned.concurrency, transport=cleaned.transport,
                transport_settings=cleaned.transport_settings,
            )  # fmt: skip

    @event("SendingConfigured")
    def _sending_configured(
        self, domains: list[str], rate_per_second: float, concurrency: int, transport: str | None,
        transport_settings: dict[str, Any],
    ) -> None:  # fmt: skip
        self.sending = SendingSettings(tuple(domains), rate_per_second, concurrency, transport, transport_settings)

    def rename(self, name: str) -> None:
        """Give the connection a new name."""
        self._renamed(clean_name(name))

    @event("Renamed")
    def _renamed(self, name: str) -> None:
        self.name = name

    def rotate(self, webhook: dict[str, Any], now: datetime, overlap: timedelta) -> None:
        """Replace the webhook settings; the old ones keep verifying for ``overlap`` (deliveries in flight)."""
        self._require_enabled()
        if not timedelta(0) <= overlap <= MAX_OVERLAP:
            raise InvalidOverlap("overlap must be between 0 and 30 days", overlap_seconds=overlap.total_seconds())
        self._rotated(webhook=webhook, previous_valid_until=now + overlap)

    @event("WebhookRotated")
    def _rotated(self, webhook: dict[str, Any], previous_valid_until: datetime) -> None:
        self.previous_webhook = self.webhook
        self.previous_valid_until = previous_valid_until
        self.webhook = webhook

    def active_webhooks(self, now: datetime) -> list[dict[str, Any]]:
        """Settings a delivery may verify against right now, newest first."""
        active = [self.webhook]
        if self.previous_webhook is not None and self.previous_valid_until and now < self.previous_valid_until:
            active.append(self.previous_webhook)
        return active

    def disable(self) -> None:
        """Stop accepting webhooks (they get 404, so the ESP stops or alerts)."""
        self._require_enabled()
        self._disabled()

    @event("Disabled")
    def _disabled(self) -> None:
        self.enabled = False

    def enable(self) -> None:
        """Accept webhooks again."""
        if not self.enabled:
            self._enabled()

    @event("Enabled")
    def _enabled(self) -> None:
        self.enabled = True

    def record_subscription_request(self, topic_arn: str, subscribe_url: str, confirmed: bool) -> None:
        """An SNS SubscriptionConfirmation arrived (and was, or was not yet, confirmed)."""
        self._subscription_requested(topic_arn=topic_arn, subscribe_url=subscribe_url, confirmed=confirmed)

    @event("SubscriptionRequested")
    def _subscription_requested(self, topic_arn: str, subscribe_url: str, confirmed: bool) -> None:
        self.pending_subscription = None if confirmed else {"topic_arn": topic_arn, "subscribe_url": subscribe_url}

    def _require_enabled(self) -> None:
        if not self.enabled:
            raise ConnectionDisabled("this ESP connection is disabled", connection_id=str(self.id))
