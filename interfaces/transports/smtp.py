"""SMTP: each message over a small pool of persistent connections (aiosmtplib).

One message is one SMTP transaction (MAIL FROM the sender, RCPT TO the recipient, DATA ``message.mime()``),
so every recipient's reply is its own result: 250 is ``SENT``, 4xx, timeouts and lost connections are
``TRANSIENT``, 5xx is ``PERMANENT`` with the server's code and text as the reason (RFC 5321 §4.2.1).
A batch runs over the pooled connections concurrently; a connection outlives the batch, and one that
broke is closed and replaced rather than failing the transport.

The provider id is the queue id in the 250 reply when the server names one (``queued as X`` from Postfix
and SendGrid's relay, ``Ok <id>`` from Amazon SES's SMTP interface: the id their event webhooks carry),
else our own ``Message-ID``. aiosmtplib: https://aiosmtplib.readthedocs.io/en/latest/reference.html
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Sequence
from email.utils import parseaddr
from typing import Literal

import aiosmtplib
import msgspec
from aiosmtplib.typing import SMTPStatus

from interfaces.transports.base import Outcome, OutgoingMessage, SendResult

_QUEUE_ID = (re.compile(r"queued as\s+<?([^\s<>]+)>?", re.IGNORECASE), re.compile(r"^ok\s+<?([^\s<>]+)>?$", re.I))


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Where the SMTP server is, how to secure and authenticate the session, and how many sessions to keep."""

    host: str
    port: int = 587
    # "starttls": plain connect then STARTTLS (required); "tls": implicit TLS (port 465); "none": cleartext.
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0  # seconds per SMTP command
    concurrency: int = 4  # pooled connections, hence messages in flight
    messages_per_second: float | None = None  # a hint for the delivery worker's throttle
    validate_certs: bool = True
    ca_file: str | None = None  # trust this CA bundle (a private relay's own certificate)
    local_hostname: str | None = None  # the EHLO name; the machine's FQDN when unset


def queue_id(reply: str) -> str | None:
    """The queue id a 250 reply to DATA names, if any."""
    text = reply.strip()
    for pattern in _QUEUE_ID:
        if found := pattern.search(text):
            return found.group(1)
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _outcome(exc: BaseException) -> Outcome:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return Outcome.PERMANENT if codes and all(c >= 500 for c in codes) else Outcome.TRANSIENT
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500:
        return Outcome.PERMANENT
    if isinstance(exc, OSError):
        return Outcome.TRANSIENT  # connection errors, TLS handshakes included (ssl.SSLError is also a ValueError)
    if isinstance(exc, aiosmtplib.SMTPNotSupported | ValueError):
        return Outcome.PERMANENT  # an address the server cannot take (non-ASCII without SMTPUTF8, malformed)
    return Outcome.TRANSIENT


class _Batch:
    """What one ``send`` call learns along the way."""

    unreachable: tuple[Outcome, str] | None = None


class SmtpTransport:
    """Sends each message as its own transaction over pooled connections."""

    max_batch = 200

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(max(1, settings.concurrency))
        self._tls = self._tls_context()
        self.connections_opened = 0  # for tests and diagnostics

    def _tls_context(self) -> ssl.SSLContext | None:
        s = self._settings
        if s.security == "none":
            return None
        context = ssl.create_default_context(cafile=s.ca_file)
        if not s.validate_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self._settings
        client = aiosmtplib.SMTP(
            hostname=s.host, port=s.port, timeout=s.timeout, local_hostname=s.local_hostname,
            use_tls=s.security == "tls", start_tls=s.security == "starttls", tls_context=self._tls,
            validate_certs=s.validate_certs, username=s.username, password=s.password,
        )  # fmt: skip
        self.connections_opened += 1
        await client.connect()  # EHLO, STARTTLS and AUTH happen here
        return client

    async def _take(self) -> tuple[aiosmtplib.SMTP, bool]:
        """A live idle connection (reused) or a new one."""
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                return client, True
            client.close()
        return await self._connect(), False

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        batch = _Batch()
        return list(await asyncio.gather(*(self._send_one(m, batch) for m in messages)))

    async def _send_one(self, message: OutgoingMessage, batch: _Batch) -> SendResult:
        async with self._slots:
            if batch.unreachable is not None and not self._idle:
                # One failed connect answers for the batch: the rest need not each wait out a timeout.
                return _failed(message, *batch.unreachable)
            try:
                client, reused = await self._take()
            except Exception as exc:
                where = f"{self._settings.host}:{self._settings.port}"
                batch.unreachable = (_outcome(exc), f"cannot open a session with {where}: {_describe(exc)}")
                return _failed(message, *batch.unreachable)
            return await self._deliver(client, reused, message)

    async def _deliver(self, client: aiosmtplib.SMTP, reused: bool, message: OutgoingMessage) -> SendResult:
        try:
            try:
                reply = await _transaction(client, message)
            except aiosmtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # The server dropped an idle session before our MAIL reached it; DATA was never sent,
                # so a fresh session cannot deliver the message twice.
                client.close()
                client = await self._connect()
                reply = await _transaction(client, message)
        except Exception as exc:
            if isinstance(exc, ConnectionError | TimeoutError | OSError):
                client.close()
            else:
                self._release(client)
            return SendResult(message.message_id, _outcome(exc), reason=_describe(exc))
        self._release(client)
        provider_id = queue_id(reply.message) or message.rfc_message_id
        return SendResult(message.message_id, Outcome.SENT, provider_message_id=provider_id)

    def _release(self, client: aiosmtplib.SMTP) -> None:
        if client.is_connected:
            self._idle.append(client)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


async def _transaction(client: aiosmtplib.SMTP, message: OutgoingMessage) -> aiosmtplib.SMTPResponse:
    """MAIL, RCPT, DATA for one message; RSET after a refusal so the session stays usable.

    Only a disconnect raised by MAIL (before anything of this message was accepted) is retried by the
    caller; that is why the steps are ours rather than ``send_message``'s.
    """
    sender, recipient = message.sender, _bare(message.to)
    utf8 = not (sender + recipient).isascii()
    options = ["SMTPUTF8"] if utf8 else []
    if utf8 and not client.supports_extension("smtputf8"):
        raise aiosmtplib.SMTPNotSupported("non-ASCII address and the server lacks SMTPUTF8")
    eight_bit = client.supports_extension("8bitmime")
    if eight_bit:
        options.append("BODY=8BITMIME")
    data = message.wire(utf8=utf8, cte_type="8bit" if eight_bit else "7bit")
    encoding = "utf-8" if utf8 else "ascii"
    try:
        await client.mail(sender, options=options, encoding=encoding)
    except aiosmtplib.SMTPServerDisconnected:
        raise
    except aiosmtplib.SMTPResponseException:
        await _reset(client)
        raise
    try:
        await client.rcpt(recipient, encoding=encoding)
        return await _data(client, data)
    except aiosmtplib.SMTPServerDisconnected as exc:
        # After MAIL the message may be half-way in; never retried here (the worker decides).
        raise ConnectionError(f"connection lost mid-transaction: {exc}") from exc
    except aiosmtplib.SMTPResponseException:
        await _reset(client)
        raise


async def _data(client: aiosmtplib.SMTP, data: bytes) -> aiosmtplib.SMTPResponse:
    """DATA with bytes that are already CRLF-clean, dot-stuffed here by one C-level replace.

    aiosmtplib's own ``data()`` normalizes line endings and dot-stuffs with two regular expressions over the
    whole message: about 2.8 ms for a 110 KB newsletter here, more than rendering and writing it together.
    ``wire_bytes`` only ever writes CRLF line ends, so that work is checked (three C-level counts) rather than
    redone; anything else takes aiosmtplib's path. The exchange uses the protocol's public
    ``execute_command``/``write``/``read_response``, and the pool gives each session to one transaction at a
    time, so nothing else is written to it meanwhile.
    """
    protocol = client.protocol
    crlf = data.count(b"\r\n")
    if protocol is None or not data.endswith(b"\r\n") or data.count(b"\r") != crlf or data.count(b"\n") != crlf:
        return await client.data(data)
    stuffed = data.replace(b"\r\n.", b"\r\n..")
    if stuffed.startswith(b"."):
        stuffed = b"." + stuffed
    timeout = client.timeout
    try:
        start = await protocol.execute_command(b"DATA", timeout=timeout)
        if start.code != SMTPStatus.start_input:
            raise aiosmtplib.SMTPDataError(start.code, start.message)
        protocol.write(stuffed + b".\r\n")
        reply = await protocol.read_response(timeout=timeout)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
        client.close()
        raise
    if reply.code != SMTPStatus.completed:
        raise aiosmtplib.SMTPDataError(reply.code, reply.message)
    return reply


async def _reset(client: aiosmtplib.SMTP) -> None:
    try:
        await client.rset()
    except (aiosmtplib.SMTPException, OSError):
        client.close()  # a session that cannot even reset is not put back in the pool


def _failed(message: OutgoingMessage, outcome: Outcome, reason: str) -> SendResult:
    return SendResult(message.message_id, outcome, reason=reason)


def _bare(address: str) -> str:
    return parseaddr(address)[1] or address


def create(settings: Settings) -> SmtpTransport:
    """An SMTP transport for ``settings``; connections open on first use."""
    return SmtpTransport(settings)
