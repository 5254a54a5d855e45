"""Request context for every request: request id, JSON access log, metrics; and the API's JSON-only rule."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from domain.events import caused_by
from interfaces.logs import request_id_var

log = logging.getLogger("tidings.access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestContextMiddleware(ASGIMiddleware):
    """Assigns the request id (client's X-Request-Id when sane), times the request, logs it once."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        supplied = _header(scope, b"x-request-id")
        request_id = supplied if supplied and _VALID_REQUEST_ID.match(supplied) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            with caused_by("anonymous", request_id):
                await next_app(scope, receive, send_with_id)
        except Exception as exc:
            # Raised by inner middleware (auth, rate limit): Litestar's outermost handler would answer after
            # this middleware has gone, without x-request-id and counted as a 500. Answer here instead.
            handler = _handler_for(scope["app"], exc)
            if handler is None or responded:
                raise
            request: Request[Any, Any, Any] = Request(scope, receive)
            await handler(request, exc).to_asgi_response(None, request)(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            metrics = getattr(scope["app"].state, "metrics", None)
            if metrics is not None:
                metrics.observe(scope["method"], route, status, elapsed)
            log.info(
                "request",
                extra={"method": scope["method"], "route": route, "status": status, "ms": round(elapsed * 1000, 2)},
            )
            request_id_var.reset(token)


def _handler_for(app: Any, exc: Exception) -> Any:
    for cls in type(exc).__mro__:
        if cls in app.exception_handlers:
            return app.exception_handlers[cls]
    return None


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


async def require_json(request: Any) -> None:
    """API commands with a body must send JSON (415 otherwise); bodiless commands are fine."""
    if request.method not in _BODY_METHODS:
        return
    length = request.headers.get("content-length")
    chunked = "chunked" in request.headers.get("transfer-encoding", "")
    if (length in (None, "0")) and not chunked:
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise HTTPException(
            status_code=415,
            detail="request bodies must be JSON (Content-Type: application/json)",
            extra={"content_type": media_type or None},
        )
