"""A webhook delivery: the raw request an ESP posted, as received, and what it was normalized into.

The raw body is kept so that normalization can be re-run over history when an adapter is fixed; a
re-run is recorded as a new fact (``Renormalized``), never as an edit.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.email_event import NormalizedEvent
from domain.events import TidingsAggregate


class WebhookDelivery(TidingsAggregate):
    """One POST from an ESP: raw request, how it was verified, normalized events and quarantined items."""

    @event("Received")
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002
        connection_id: UUID,
        provider: str,
        headers: dict[str, str],
        body: str,
        verified_by: str,
        events: list[NormalizedEvent],
        quarantined: list[dict[str, Any]],
    ) -> None:
        self.connection_id = connection_id
        self.provider = provider
        self.headers = headers
        self.body = body
        self.verified_by = verified_by
        self.events = events
        self.quarantined = quarantined

    def renormalize(self, events: list[NormalizedEvent], quarantined: list[dict[str, Any]]) -> bool:
        """Record what a newer adapter makes of the same raw request; False when nothing changed."""
        if events == self.events and quarantined == self.quarantined:
            return False
        # Connection and provider are repeated so that the event is self-contained for projections, and so
        # are the keys of events the newer adapter no longer finds (their rows must go).
        kept = {n.dedup_key() for n in events}
        dropped = [key for key in dict.fromkeys(n.dedup_key() for n in self.events) if key not in kept]
        self._renormalized(
            connection_id=self.connection_id, provider=self.provider, events=events, quarantined=quarantined,
            dropped=dropped,
        )  # fmt: skip
        return True

    @event("Renormalized")
    def _renormalized(
        self, connection_id: UUID, provider: str, events: list[NormalizedEvent], quarantined: list[dict[str, Any]],
        dropped: list[str],
    ) -> None:  # fmt: skip
        self.events = events
        self.quarantined = quarantined
