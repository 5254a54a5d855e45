"""System email: one transactional message to one contact (not a campaign), through the system transport.

Tidings sends a few messages of its own, such as the re-subscribe confirmation. They go out through
``TIDINGS_SYSTEM_TRANSPORT`` (default: ``TIDINGS_DEFAULT_TRANSPORT``, so ``capture`` keeps them in the
outbox on an embedded install) with ``TIDINGS_SYSTEM_TRANSPORT_SETTINGS``, from ``TIDINGS_SYSTEM_FROM``.

Every system message carries ``SYSTEM_MAIL`` as its campaign id: ``uuid5(TIDINGS, "system-mail")``, the same
on every deployment, so the outbox, ESP metadata and webhook events tell system mail from campaign mail.
No campaign has this id (campaign ids are random uuid4s).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4, uuid5

import msgspec

from domain.ids import TIDINGS
from interfaces.bootstrap import Container
from interfaces.transports import registry
from interfaces.transports.base import Outcome, OutgoingMessage, SendResult, Transport

SYSTEM_MAIL = uuid5(TIDINGS, "system-mail")
# RFC 3834: mail a machine sends on its own; well-behaved autoresponders do not answer it.
HEADERS = {"Auto-Submitted": "auto-generated"}


class SystemMailUnavailable(Exception):
    """The system transport did not take the message (or is not configured); sending again may work."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class SystemMessage:
    """What to send, and to whom."""

    contact_id: UUID
    to: str
    subject: str
    html: str
    text: str


def outgoing(container: Container, message: SystemMessage, message_id: UUID | None = None) -> OutgoingMessage:
    """The message as any transport takes it: a fresh message id, the system campaign id, the system From."""
    return OutgoingMessage(
        message_id=message_id or uuid4(),
        campaign_id=SYSTEM_MAIL,
        contact_id=message.contact_id,
        from_address=container.settings.system_from_address,
        to=message.to,
        subject=message.subject,
        html=message.html,
        text=message.text,
        headers=HEADERS,
    )


async def send_system_mail(container: Container, message: SystemMessage) -> SendResult:
    """Send ``message`` now; its ``SendResult`` when SENT, else ``SystemMailUnavailable`` with the reason."""
    mail = outgoing(container, message)
    transport = await asyncio.to_thread(system_transport, container)
    try:
        [result] = await transport.send([mail])
    finally:
        await transport.aclose()
    if result.outcome is not Outcome.SENT:
        retry = result.retry_after if result.outcome is Outcome.TRANSIENT else None
        raise SystemMailUnavailable(f"the system transport did not take the message ({result.reason})", retry)
    return result


def system_transport(container: Container) -> Transport:
    """A transport of the configured system kind (the capture outbox writes into this deployment's database)."""
    settings = container.settings
    kind = settings.system_transport_kind
    try:
        module = registry.module(kind)
        options: Any = msgspec.convert(settings.system_transport_settings, module.Settings)
    except (KeyError, msgspec.ValidationError) as exc:
        # Only reachable when neither system variable was set and the default transport needs settings.
        raise SystemMailUnavailable(
            f"system email cannot be sent: set TIDINGS_SYSTEM_TRANSPORT_SETTINGS for {kind!r} ({exc})"
        ) from None
    transport: Transport = module.create(options, db=container.db) if kind == "capture" else module.create(options)
    return transport
