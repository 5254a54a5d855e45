"""The deployment's link keys and the absolute URLs of the contact-facing pages built with them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from uuid import UUID

from domain.link_tokens import LinkKeys, Purpose
from interfaces.bootstrap import Container


@dataclass(frozen=True)
class Links:
    """Signs tokens and turns them into links under the public URL."""

    keys: LinkKeys
    public_url: str

    def preferences_url(self, contact_id: UUID, now: datetime) -> str:
        """The contact's preference center."""
        return f"{self.public_url}/preferences/{self.keys.sign(contact_id, Purpose.PREFERENCES, now)}"

    def unsubscribe_token(self, contact_id: UUID, now: datetime, category: str | None = None) -> str:
        """A token that unsubscribes the contact from ``category``, or from all marketing email when None."""
        return self.keys.sign(contact_id, Purpose.UNSUBSCRIBE, now, category)

    def unsubscribe_url(self, contact_id: UUID, now: datetime, category: str | None = None) -> str:
        """The one-click unsubscribe page (and RFC 8058 POST target)."""
        return self.unsubscribe_url_of(self.unsubscribe_token(contact_id, now, category))

    def unsubscribe_url_of(self, token: str) -> str:
        """The unsubscribe page of a token already signed (a message's link and header share one)."""
        return f"{self.public_url}/u/{token}"

    def category_unsubscribe_urls(self, contact_id: UUID, categories: Iterable[str], now: datetime) -> dict[str, str]:
        """One unsubscribe URL per category key."""
        return {key: self.unsubscribe_url(contact_id, now, key) for key in categories}


@lru_cache(maxsize=4)
def _links(secret: str, key_ids: tuple[str, ...], public_url: str) -> Links:
    # HKDF runs once per key id and process, not once per request.
    return Links(LinkKeys(secret, key_ids), public_url)


def links_of(container: Container) -> Links:
    """The links of this deployment (TIDINGS_SECRET_KEY, TIDINGS_LINK_KEY_IDS, TIDINGS_PUBLIC_URL)."""
    settings = container.settings
    return _links(container.secret_key, settings.link_key_ids, settings.public_url)
