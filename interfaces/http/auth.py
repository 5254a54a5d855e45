"""API key authentication, per-key rate limits and role guards for /api/v1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from application.keys import hash_token
from domain.api_key import Role
from domain.events import api_key_actor, caused_by
from interfaces.http.errors import RateLimited
from interfaces.logs import request_id_var
from interfaces.rate_limits import retry_after_header
from projections.api_keys import find_active_by_hash


@dataclass(frozen=True)
class Principal:
    """The caller, as established by its API key."""

    key_id: str
    role: Role
    name: str


def _bearer(scope: Scope) -> str:
    for key, value in scope.get("headers", []):
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            break
    raise NotAuthorizedException("missing or malformed Authorization header; expected 'Bearer <API key>'")


class ApiKeyAuthMiddleware(ASGIMiddleware):
    """Resolves the bearer key to a principal, spends a rate-limit token, and attributes events to the key."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        state = scope["app"].state
        row = await sync_to_thread(find_active_by_hash, state.container.db, hash_token(_bearer(scope)))
        if row is None:
            raise NotAuthorizedException("unknown or revoked API key")
        settings = state.container.settings
        decision = await state.limiter.hit(f"key:{row.id}", settings.api_rate_per_second, settings.api_rate_burst)
        if not decision.allowed:
            raise RateLimited(
                detail="rate limit exceeded for this API key",
                headers={"Retry-After": retry_after_header(decision)},
                extra={"retry_after_seconds": decision.retry_after},
            )
        scope["user"] = Principal(str(row.id), Role(row.role), row.name)
        with caused_by(api_key_actor(row.id), request_id_var.get()):
            await next_app(scope, receive, send)


def require(*roles: Role) -> Any:
    """A guard admitting the given roles (admin is always admitted)."""
    allowed = {Role.ADMIN, *roles}

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.scope["user"]
        if principal.role not in allowed:
            raise PermissionDeniedException(
                f"role {principal.role.value!r} may not do this",
                extra={"allowed_roles": sorted(r.value for r in allowed)},
            )

    return guard


ANY_ROLE = require(*Role)
ADMIN_ONLY = require()
