"""Webhook intake: record many deliveries in one atomic save (micro-batching across requests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from application.base import TidingsApplication
from domain.email_event import NormalizedEvent
from domain.events import caused_by, esp_actor
from domain.webhook_delivery import WebhookDelivery


@dataclass(frozen=True)
class Delivery:
    """A verified, parsed request ready to be recorded."""

    delivery_id: UUID
    connection_id: UUID
    provider: str
    headers: dict[str, str]
    body: str
    verified_by: str
    request_id: str | None
    events: list[NormalizedEvent]
    quarantined: list[dict[str, Any]]


class Intake(TidingsApplication):
    """Records webhook deliveries durably; dedup of their events happens in the email events projection."""

    def record(self, deliveries: Sequence[Delivery]) -> int:
        """Save all deliveries in one transaction; returns the log position of the last one."""
        aggregates = []
        for d in deliveries:
            with caused_by(esp_actor(d.connection_id), d.request_id):
                aggregates.append(
                    WebhookDelivery(
                        id=d.delivery_id,
                        connection_id=d.connection_id,
                        provider=d.provider,
                        headers=d.headers,
                        body=d.body,
                        verified_by=d.verified_by,
                        events=d.events,
                        quarantined=d.quarantined,
                    )
                )
        recordings = self.save(*aggregates)
        return int(recordings[-1].notification.id) if recordings else 0

    def deliveries(self, after: int, limit: int) -> tuple[list[Any], int]:
        """Received deliveries in log order after position ``after``; returns them and the last position read."""
        topic = get_topic(WebhookDelivery.Received)  # type: ignore[attr-defined]
        notifications = self.recorder.select_notifications(
            start=after, limit=limit, topics=[topic], inclusive_of_start=False
        )
        events = [self.mapper.to_domain_event(n) for n in notifications]
        return events, (notifications[-1].id if notifications else after)

    def renormalize(self, delivery_id: UUID, events: list[NormalizedEvent], quarantined: list[dict[str, Any]]) -> bool:
        """Record a re-normalization of one delivery; False when the result is unchanged."""
        delivery: WebhookDelivery = self.load(delivery_id, WebhookDelivery)
        if not delivery.renormalize(events, quarantined):
            return False
        self.save(delivery)
        return True
