"""An SMTP server (aiosmtpd) that takes mail for the unsubscribe mailbox and applies each request.

Only the configured address is a valid recipient (550 for any other: this is no open relay or mailbox).
A message is answered 250 once its request is stored, or when it carries nothing we can act on: a bounce
to a person who wrote to an unsubscribe address helps nobody, and an invalid token is most often a mail
client's mangled subject, so it is logged (by verdict only) and dropped. When storing fails the answer is
451, so the sending server retries later rather than the request being lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.controller import Controller

from interfaces.bootstrap import Container
from interfaces.inbound_mail.unsubscribe_mail import apply

log = logging.getLogger("tidings.inbound_mail")
MAX_MESSAGE_BYTES = 256 * 1024  # an unsubscribe request is a few KB; quoted replies stay well under this


class UnsubscribeMailbox:
    """aiosmtpd handler: RCPT checks the address, DATA applies the request."""

    def __init__(self, container: Container, address: str, clock: Callable[[], datetime] | None = None) -> None:
        self.container = container
        self.address = address.lower()
        self.clock = clock or (lambda: datetime.now(UTC))

    async def handle_RCPT(  # noqa: N802 (aiosmtpd calls hooks by these names)
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.lower() != self.address:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        try:
            outcome = await asyncio.to_thread(apply, self.container, envelope.content, self.clock())
        except Exception:
            log.exception("could not record an unsubscribe request received by mail")
            return "451 4.3.0 Could not record the request; try again later"
        log.info("unsubscribe request by mail", extra={"verdict": outcome.verdict.value})
        return "250 2.0.0 OK"


def receiver(container: Container, address: str, host: str, port: int) -> Controller:
    """An (unstarted) SMTP server on ``host:port`` for ``address``."""
    return Controller(
        UnsubscribeMailbox(container, address), hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES
    )
