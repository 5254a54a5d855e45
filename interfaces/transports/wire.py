"""A message's bytes for SMTP and raw-message APIs, written directly rather than through ``email``.

The email package's generator costs several milliseconds per newsletter-sized message (its header
registry and policy machinery), more than the SMTP exchange itself. The shape here is fixed and small:
top-level headers, then ``multipart/alternative`` with a text and an HTML part. A server that takes
8BITMIME gets the parts as they are (8bit: no encoding cost) unless a line exceeds 998 bytes or the
boundary occurs in them; otherwise they are quoted-printable (the C encoder in ``binascii``): 7-bit
clean, lines within 76 characters, and the boundary starts with ``=_``, which quoted-printable output
can never contain. Non-ASCII header values are RFC 2047
encoded (display names through ``formataddr``); without SMTPUTF8 an address itself must be ASCII. Header
lines may run to RFC 5322's 998 characters, so a long ``List-Unsubscribe`` URI stays a bare URI.
The result parses to the same message ``OutgoingMessage.mime()`` builds (a property test holds them
to it).
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable
from email.header import Header
from email.utils import formataddr, formatdate, getaddresses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from interfaces.transports.base import OutgoingMessage

ADDRESS_HEADERS = frozenset({"from", "to", "reply-to", "cc", "sender"})
MAX_LINE = 998


class HeaderInjection(ValueError):
    """A header value holds a line break: it would start a header of its own."""


def _header(name: str, value: str, utf8: bool) -> bytes:
    if "\r" in value or "\n" in value:
        raise HeaderInjection(f"header {name!r} contains a line break")
    if value.isascii() or utf8:
        text = value
    elif name.lower() in ADDRESS_HEADERS:
        text = ", ".join(formataddr(pair, charset="utf-8") for pair in getaddresses([value]))
    else:
        text = Header(value, "utf-8", maxlinelen=MAX_LINE, header_name=name).encode(linesep="\r\n")
    line = f"{name}: {text}\r\n".encode("utf-8" if utf8 else "ascii")
    return line


def _qp(text: str) -> bytes:
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    if not body.endswith("\n"):
        body += "\n"
    return binascii.b2a_qp(body.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


def _eight_bit(text: str, boundary: str) -> bytes | None:
    """The text as 8bit body bytes, or None when it cannot go as 8bit (a line over 998, the boundary)."""
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    if not body.endswith("\n"):
        body += "\n"
    data = body.encode("utf-8").replace(b"\n", b"\r\n")
    if boundary.encode() in data or max(map(len, data.split(b"\r\n"))) > MAX_LINE:
        return None
    return data


def _part(content_type: str, text: str, boundary: str, eight_bit: bool) -> Iterable[bytes]:
    yield f'Content-Type: {content_type}; charset="utf-8"\r\n'.encode()
    raw = _eight_bit(text, boundary) if eight_bit else None
    if raw is not None:
        yield b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        yield raw
        return
    yield b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    yield _qp(text)


def wire_bytes(message: OutgoingMessage, *, utf8: bool = False, eight_bit: bool = False) -> bytes:
    """``message`` as RFC 5322 bytes with CRLF line ends; ``eight_bit`` when the server takes 8BITMIME."""
    boundary = f"=_tidings_{message.message_id.hex}"
    headers = {
        "From": message.from_address, "To": message.to, "Subject": message.subject,
        "Message-ID": message.rfc_message_id, "Date": formatdate(usegmt=True), **message.all_headers(),
    }  # fmt: skip
    chunks = [_header(name, value, utf8) for name, value in headers.items()]
    chunks += [b"MIME-Version: 1.0\r\n", f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode()]
    delimiter = f"--{boundary}\r\n".encode()
    chunks.append(delimiter)
    chunks.extend(_part("text/plain", message.text, boundary, eight_bit))
    chunks.append(delimiter)
    chunks.extend(_part("text/html", message.html, boundary, eight_bit))
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks)
