"""The error body every failing request gets."""

from __future__ import annotations

from typing import Any

import msgspec


class ErrorDetail(msgspec.Struct):
    """What went wrong: a stable machine code, a human message, and specifics."""

    code: str
    message: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class ErrorBody(msgspec.Struct):
    """``{"error": {"code", "message", "details"}}``."""

    error: ErrorDetail
