"""Which recorded fields are secret: the audit log shows that they changed, never their value."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"

# Names that are secret wherever they appear, whether or not an aggregate declared them.
_SECRET_NAME = re.compile(
    r"(secret|password|passwd|token|api_?key|private_?key|signing_?key|hash|signature)", re.IGNORECASE
)


def is_secret(name: str, declared: frozenset[str] = frozenset()) -> bool:
    """True when a field of this name must not be shown."""
    return name in declared or bool(_SECRET_NAME.search(name))


def redact(values: Mapping[str, Any], declared: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A copy of ``values`` with secret fields (at any depth) replaced by a marker."""
    return {
        name: REDACTED if is_secret(name, declared) else _redact_value(value, declared)
        for name, value in values.items()
    }


def _redact_value(value: Any, declared: frozenset[str]) -> Any:
    if isinstance(value, Mapping):
        return redact(value, declared)
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v, declared) for v in value)
    return value
