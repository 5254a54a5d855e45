"""The one place that turns exceptions into status codes and ``{"error": ...}`` bodies."""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain import errors
from interfaces.http.schemas.errors import ErrorBody, ErrorDetail
from interfaces.webhooks.provider import WebhookRejected

log = logging.getLogger("tidings.http")

# Domain error families and the status each maps to; concrete errors inherit their family's.
DOMAIN_STATUS: dict[type[errors.DomainError], int] = {
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.RuleViolated: 409,
    errors.Forbidden: 403,
    errors.Invalid: 422,
}

STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class RateLimited(HTTPException):
    """Too many requests for this key; retry after the given seconds."""

    status_code = 429


def status_of(exc: errors.DomainError) -> int:
    """The HTTP status for a domain error (by its nearest mapped base class)."""
    for cls in type(exc).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return 400


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Response[ErrorBody]:
    """A JSON error response."""
    body = ErrorBody(ErrorDetail(code=code, message=message, details=details or {}))
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def on_domain_error(_: Request[Any, Any, Any], exc: errors.DomainError) -> Response[ErrorBody]:
    """Domain errors keep their own code and details."""
    return error_response(status_of(exc), exc.code, exc.message, exc.details)


def on_validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[ErrorBody]:
    """Malformed input: 400 with what the validator said, field by field."""
    extra = exc.extra if isinstance(exc.extra, list) else [exc.extra] if exc.extra else []
    return error_response(400, "bad_request", _first_line(exc.detail), {"fields": extra})


def on_http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    """Framework and edge errors (401, 403, 404, 405, 413, 415, 429...)."""
    status = exc.status_code
    details = exc.extra if isinstance(exc.extra, dict) else {}
    headers = dict(exc.headers or {})
    if status == 400 and "fields" not in details:
        # Malformed JSON: no field to blame, but clients read every 400's problems from details.fields.
        details = {**details, "fields": [{"key": "body", "source": "body", "message": _first_line(exc.detail)}]}
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="tidings"')
    return error_response(status, STATUS_CODES.get(status, "error"), _first_line(exc.detail), details, headers)


def on_webhook_rejected(_: Request[Any, Any, Any], exc: WebhookRejected) -> Response[ErrorBody]:
    """401 for failed verification, 400 for an unusable body, with the adapter's specific message."""
    return error_response(exc.status, STATUS_CODES.get(exc.status, "error"), exc.message)


def on_storage_down(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """The database or Redis is unreachable: 503, so clients (and ESPs) retry later."""
    log.error("storage unavailable", extra={"error": type(exc).__name__, "path": request.url.path})
    message = "storage is temporarily unavailable; retry later"
    return error_response(503, "unavailable", message, headers={"Retry-After": "5"})


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """A bug: log it with the request id, answer without internals."""
    log.exception("unhandled error", extra={"path": request.url.path}, exc_info=exc)
    return error_response(500, "internal_error", "internal error; the request id in the logs has the details")


def _first_line(detail: str) -> str:
    return (detail or "").splitlines()[0] if detail else "request failed"


def exception_handlers() -> dict[Any, Any]:
    """The handler table for the Litestar app."""
    return {
        errors.DomainError: on_domain_error,
        ValidationException: on_validation_error,
        WebhookRejected: on_webhook_rejected,
        HTTPException: on_http_error,
        OperationalError: on_storage_down,
        InterfaceError: on_storage_down,
        RedisConnectionError: on_storage_down,
        RedisTimeoutError: on_storage_down,
        Exception: on_unexpected,
    }


def documented(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the error statuses a handler can answer."""
    return {
        s: ResponseSpec(data_container=ErrorBody, description=STATUS_CODES.get(s, "error").replace("_", " "))
        for s in statuses
    }
