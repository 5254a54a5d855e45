"""The one error vocabulary; interfaces map each family to a status code."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a rule, a lookup or a command can raise on purpose."""

    code = "domain_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """The thing asked for does not exist (or did not exist yet at that instant)."""

    code = "not_found"


class Conflict(DomainError):
    """The command raced another writer or would create a duplicate."""

    code = "conflict"


class RuleViolated(DomainError):
    """A business rule refuses the command in the aggregate's current state."""

    code = "rule_violated"


class Forbidden(DomainError):
    """The actor is known but not allowed to do this."""

    code = "forbidden"


class Invalid(DomainError):
    """The command's input is well-formed but semantically wrong."""

    code = "invalid"


class ApiKeyAlreadyRevoked(RuleViolated):
    """A revoked key stays revoked: revoking it again is refused."""

    code = "api_key_already_revoked"


class UnknownRole(Invalid):
    """Roles are a closed set."""

    code = "unknown_role"


class InvalidName(Invalid):
    """Names are 1 to 100 printable characters after trimming."""

    code = "invalid_name"
