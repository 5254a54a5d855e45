"""Suppression use cases: suppress and lift an address, idempotently, from any source.

The suppression's id derives from the normalized address, so no read model is consulted; two racing
first suppressions collide on the store's version check and the loser re-decides on fresh state.
"""

from __future__ import annotations

from datetime import datetime

from application.base import TidingsApplication
from application.preferences import retry_on_race
from domain.email_address import normalize_email
from domain.errors import NotFound
from domain.preference_sources import Source
from domain.suppression import Suppression, suppression_id


class Suppressions(TidingsApplication):
    """The suppression list, one aggregate per address."""

    def suppress(
        self,
        address: str,
        reason: object,
        source: object = Source.ADMIN,
        cause: str | None = None,
        effective_at: datetime | None = None,
    ) -> bool:
        """Suppress the address; False when nothing changed (already so, or this cause seen before)."""
        normalized = normalize_email(address)

        def attempt() -> bool:
            suppression = self.find(normalized) or Suppression.open(normalized, source, effective_at)
            changed = suppression.suppress(reason, source, cause, effective_at)
            if suppression.pending_events:  # a change, or a cause noted that changed nothing
                self.save(suppression)
            return changed

        return retry_on_race(attempt)

    def lift(
        self,
        address: str,
        source: object = Source.ADMIN,
        cause: str | None = None,
        effective_at: datetime | None = None,
        only_reason: object = None,
    ) -> bool:
        """End the address's suppression (only one for ``only_reason`` when given); False when none was lifted."""
        normalized = normalize_email(address)

        def attempt() -> bool:
            suppression = self.find(normalized)
            if suppression is None:
                return False
            changed = suppression.lift(source, cause, effective_at, only_reason)
            if suppression.pending_events:  # a change, or a cause noted that changed nothing
                self.save(suppression)
            return changed

        return retry_on_race(attempt)

    def find(self, address: str) -> Suppression | None:
        """The suppression record of this address (active or lifted), or None when it never was suppressed."""
        try:
            suppression: Suppression = self.load(suppression_id(normalize_email(address)), Suppression)
        except NotFound:
            return None
        return suppression
