"""``POST /api/v1/contacts/{id}/preference-links``: fresh signed links for a contact (support staff, tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec
from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.api_key import Role
from interfaces.bootstrap import Container
from interfaces.http.auth import require
from interfaces.http.errors import documented
from interfaces.link_keys import links_of
from projections.preferences import list_categories


class PreferenceLinks(msgspec.Struct):
    """A contact's preference center, global unsubscribe and per-category unsubscribe links."""

    preferences_url: str
    unsubscribe_url: str
    category_unsubscribe_urls: dict[str, str]


class PreferenceLinksController(Controller):
    """Signed links for one contact; minting them changes nothing, but they act for the contact: editor+."""

    path = "/contacts/{contact_id:uuid}/preference-links"
    tags = ["preferences"]
    guards = [require(Role.EDITOR)]

    @post("/", operation_id="createPreferenceLinks", status_code=200, sync_to_thread=True,
          responses=documented(400, 401, 403, 404, 429))  # fmt: skip
    def create(self, contact_id: FromPath[UUID], container: NamedDependency[Container]) -> PreferenceLinks:
        """Fresh links (preferences: 90 days; unsubscribe: a year) under TIDINGS_PUBLIC_URL."""
        container.contacts.get(contact_id)  # 404 for an unknown contact
        links, now = links_of(container), datetime.now(UTC)
        keys = [c.key for c in list_categories(container.db)]
        return PreferenceLinks(links.preferences_url(contact_id, now), links.unsubscribe_url(contact_id, now),
                               links.category_unsubscribe_urls(contact_id, keys, now))  # fmt: skip
