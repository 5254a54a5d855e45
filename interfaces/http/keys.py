"""API key endpoints (admin only): issue, list, read, rename, revoke."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from application.keys import ApiKeys
from domain.errors import NotFound
from domain.events import because
from interfaces.bootstrap import Container
from interfaces.http.auth import ADMIN_ONLY
from interfaces.http.errors import documented
from interfaces.http.schemas.keys import Key, KeyCreate, KeyIssued, KeyRevoke, KeyUpdate
from projections.api_keys import KeyRow, get_key, list_keys

_COMMON_ERRORS = (401, 403, 429)


def _key(row: KeyRow) -> Key:
    return Key(row.id, row.name, row.role, row.prefix, row.created_at, row.created_by, row.revoked_at, row.active)  # type: ignore[arg-type]


def _settled(container: Container, key_id: UUID) -> KeyRow:
    container.settle()
    row = get_key(container.db, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    return row


class KeysController(Controller):
    """Manage API keys."""

    path = "/keys"
    tags = ["api keys"]
    guards = [ADMIN_ONLY]

    @post("/", operation_id="createApiKey", sync_to_thread=True, responses=documented(400, 415, 422, *_COMMON_ERRORS))
    def create(
        self, data: JSONBody[KeyCreate], keys: NamedDependency[ApiKeys], container: NamedDependency[Container]
    ) -> KeyIssued:
        """Issue a key; the response is the only time its secret is shown."""
        with because(data.reason):
            issued = keys.issue(data.name, data.role)
        return KeyIssued(**msgspec.structs.asdict(_key(_settled(container, issued.key.id))), key=issued.token)

    @get("/", operation_id="listApiKeys", sync_to_thread=True, responses=documented(400, *_COMMON_ERRORS))
    def list(self, container: NamedDependency[Container], include_revoked: FromQuery[bool] = False) -> list[Key]:
        """List keys (active ones unless include_revoked)."""
        return [_key(r) for r in list_keys(container.db, include_revoked)]

    @get(
        "/{key_id:uuid}", operation_id="getApiKey", sync_to_thread=True, responses=documented(400, 404, *_COMMON_ERRORS)
    )
    def read(self, key_id: FromPath[UUID], container: NamedDependency[Container]) -> Key:
        """One key."""
        row = get_key(container.db, key_id)
        if row is None:
            raise NotFound(f"API key {key_id} not found")
        return _key(row)

    @patch(
        "/{key_id:uuid}",
        operation_id="renameApiKey",
        sync_to_thread=True,
        responses=documented(400, 404, 409, 415, 422, *_COMMON_ERRORS),
    )
    def rename(
        self,
        key_id: FromPath[UUID],
        data: JSONBody[KeyUpdate],
        keys: NamedDependency[ApiKeys],
        container: NamedDependency[Container],
    ) -> Key:
        """Rename a key."""
        with because(data.reason):
            keys.rename(key_id, data.name)
        return _key(_settled(container, key_id))

    @post(
        "/{key_id:uuid}/revoke",
        operation_id="revokeApiKey",
        status_code=200,
        sync_to_thread=True,
        responses=documented(400, 404, 409, 415, *_COMMON_ERRORS),
    )
    def revoke(
        self,
        key_id: FromPath[UUID],
        keys: NamedDependency[ApiKeys],
        container: NamedDependency[Container],
        data: JSONBody[KeyRevoke | None] = None,
    ) -> Key:
        """Revoke a key for good; it stops authenticating at once."""
        with because(data.reason if data else None):
            keys.revoke(key_id)
        return _key(_settled(container, key_id))
