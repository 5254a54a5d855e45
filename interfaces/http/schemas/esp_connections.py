"""ESP connection request and response shapes."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Reason = Annotated[str, msgspec.Meta(max_length=500)]


class SendingIn(msgspec.Struct, forbid_unknown_fields=True):
    """How the connection sends: domains a from-address may use, throttle, transport and its settings."""

    domains: Annotated[list[str], msgspec.Meta(max_length=50)] = []
    rate_per_second: Annotated[float, msgspec.Meta(gt=0, le=10_000)] = 10.0
    concurrency: Annotated[int, msgspec.Meta(ge=1, le=64)] = 4
    # "smtp", "capture", or the provider's own API (sendgrid, mailgun, postmark, amazon_ses); default:
    # the provider's API where Tidings has one, else none (the connection then receives webhooks only).
    transport: str | None = None
    transport_settings: dict[str, Any] = {}


class ConnectionCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Register an ESP account; ``webhook`` holds the provider's settings (see the README)."""

    name: Name
    provider: str
    webhook: dict[str, Any]
    sending: SendingIn | None = None
    reason: Reason | None = None


class ConnectionUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Rename, and/or rotate the webhook settings (the old ones stay valid for ``overlap_seconds``)."""

    name: Name | None = None
    webhook: dict[str, Any] | None = None
    overlap_seconds: Annotated[int, msgspec.Meta(ge=0, le=2_592_000)] = 86_400
    sending: SendingIn | None = None
    reason: Reason | None = None


class ConnectionAction(msgspec.Struct, forbid_unknown_fields=True):
    """Disable or enable, with an optional reason."""

    reason: Reason | None = None


class Connection(msgspec.Struct):
    """A connection as the API shows it: secrets are never included."""

    id: UUID
    name: str
    provider: str
    enabled: bool
    webhook_url: str
    webhook: dict[str, Any]
    rotation_overlap_until: str | None
    pending_subscription: dict[str, Any] | None
    created_at: str
    updated_at: str
    sending: dict[str, Any] = {}
