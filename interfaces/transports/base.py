"""The one interface every transport implements, and the message and result types it speaks.

A transport takes a batch of fully rendered messages and answers one ``SendResult`` per message, in order.
Per-message failures are results, never exceptions: the delivery worker decides what to retry from the
``Outcome``. A transport raises only for programming errors; a connection that cannot be opened at all is
a batch of ``TRANSIENT`` results carrying the reason.

Our message id travels with every message in three places so that webhook events find their way back to
message, contact and campaign: the ``X-Tidings-Message-Id`` header, the RFC 5322 ``Message-ID``
(``<id@sending domain>``) and the ESP's own per-message metadata (custom args, variables, metadata, tags)
under ``METADATA_KEY``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from enum import StrEnum
from functools import lru_cache
from typing import Protocol
from uuid import UUID

from interfaces.transports.wire import wire_bytes

HEADER = "X-Tidings-Message-Id"
METADATA_KEY = "tidings_message_id"


class Outcome(StrEnum):
    """What became of one message."""

    SENT = "sent"  # accepted by the server or the ESP API; delivery is now the ESP's to report
    TRANSIENT = "transient"  # may succeed later: SMTP 4xx, HTTP 429/5xx, timeouts, connection errors
    PERMANENT = "permanent"  # will never succeed as it is: SMTP 5xx, HTTP 4xx but 429, invalid address


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered message for one recipient, ready for any transport."""

    message_id: UUID
    campaign_id: UUID
    contact_id: UUID
    from_address: str  # formatted, e.g. 'News <news@example.com>'
    to: str
    subject: str
    html: str
    text: str
    # List-Unsubscribe, List-Unsubscribe-Post, Reply-To and the like; From/To/Subject are fields above.
    headers: Mapping[str, str] = field(default_factory=dict)
    run_id: UUID | None = None

    @property
    def sender(self) -> str:
        """The bare from-address."""
        return _bare_address(self.from_address)

    @property
    def rfc_message_id(self) -> str:
        """``<message id@sending domain>``: unique, and ours, so a resend is recognisable."""
        domain = self.sender.rpartition("@")[2] or "tidings.invalid"
        return f"<{self.message_id}@{domain}>"

    def all_headers(self) -> dict[str, str]:
        """The extra headers every transport sends: ours plus the message's own."""
        return {HEADER: str(self.message_id), **self.headers}

    def metadata(self) -> dict[str, str]:
        """What rides in the ESP's per-message metadata and comes back in its webhooks."""
        values = {METADATA_KEY: str(self.message_id), "tidings_campaign_id": str(self.campaign_id)}
        if self.run_id is not None:
            values["tidings_run_id"] = str(self.run_id)
        return values

    def wire(self, *, utf8: bool = False, cte_type: str = "7bit") -> bytes:
        """The message as bytes for SMTP or a raw-message API (``cte_type="8bit"``: the receiver takes 8BITMIME).

        Written directly (``interfaces.transports.wire``): the email package's generator costs more than
        the SMTP exchange. Header lines may run to RFC 5322's 998 characters, so a long
        ``List-Unsubscribe`` URI stays bare (RFC 2369 does not allow RFC 2047 encoded-words there).
        """
        return wire_bytes(self, utf8=utf8, eight_bit=cte_type == "8bit")

    def mime(self) -> EmailMessage:
        """The message as MIME: multipart/alternative with the text part first."""
        message = EmailMessage()
        message["From"] = self.from_address
        message["To"] = self.to
        message["Subject"] = self.subject
        message["Message-ID"] = self.rfc_message_id
        for name, value in self.all_headers().items():
            message[name] = value
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        return message


@dataclass(frozen=True)
class SendResult:
    """The fate of one message in one attempt."""

    message_id: UUID
    outcome: Outcome
    provider_message_id: str | None = None
    reason: str | None = None  # the server's own words, for the audit log and the progress page
    retry_after: float | None = None  # seconds the server asked us to wait (HTTP Retry-After)


class Transport(Protocol):
    """Sends batches of messages; one result per message, in order."""

    # The most messages one ``send`` call hands to the provider at once (its batch limit; 1 for no batching).
    max_batch: int

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        """Hand ``messages`` (at most ``max_batch``) over; never raises for a message's failure."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def all_failed(
    messages: Sequence[OutgoingMessage], outcome: Outcome, reason: str, retry_after: float | None = None
) -> list[SendResult]:
    """The same result for every message of a batch (a connection error, a whole-batch rejection)."""
    return [SendResult(m.message_id, outcome, reason=reason, retry_after=retry_after) for m in messages]


def metadata_of(messages: Sequence[OutgoingMessage]) -> Mapping[UUID, Mapping[str, str]]:
    """Each message's metadata by id (batch APIs take it per recipient)."""
    return {m.message_id: m.metadata() for m in messages}


@lru_cache(maxsize=256)
def _bare_address(formatted: str) -> str:
    # A campaign's messages share one From: parsing it once saves ~40 µs a message (Message-ID uses it too).
    return parseaddr(formatted)[1]
