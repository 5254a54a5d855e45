"""A bulk-reading SMTP sink for throughput benchmarks: just enough SMTP, DATA read in whole chunks.

aiosmtpd reads DATA line by line and tops out near 150-200 messages/s of 60 KB on this machine, so it
would measure itself rather than the sender. This sink speaks EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP and
QUIT (plus 8BITMIME and SMTPUTF8 in the EHLO reply, as a relay would), looks for ``\\r\\n.\\r\\n`` in the
bytes as they arrive and answers 250 with a queue id. Nothing is parsed or kept beyond counting.

    .venv/bin/python -m bench.smtp_sink [--port 0]   # prints "port N", then on SIGTERM "messages N bytes N"
"""

from __future__ import annotations

import asyncio
import itertools

from bench import sink_server
from bench.sink_server import Totals

EHLO = b"250-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-PIPELINING\r\n250 SIZE 52428800\r\n"
END = b"\r\n.\r\n"


_ids = itertools.count(1)


class SmtpSink(asyncio.Protocol):
    """One SMTP session: command lines, or DATA until the terminating dot line."""

    def __init__(self, totals: Totals) -> None:
        self.totals = totals
        self.buffer = bytearray()
        self.in_data = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(b"220 sink ESMTP\r\n")  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies = []
        while True:
            if self.in_data:
                # The terminator may straddle chunks: search from just before the new bytes.
                end = self.buffer.find(END)
                if end < 0:
                    break
                self.totals.messages += 1
                self.totals.bytes += end
                del self.buffer[: end + len(END)]
                self.in_data = False
                replies.append(b"250 2.0.0 Ok: queued as S%d\r\n" % next(_ids))
                continue
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                break
            line = bytes(self.buffer[:line_end])
            del self.buffer[: line_end + 2]
            reply = self.command(line)
            if reply is None:
                break
            replies.append(reply)
        if replies and self.transport is not None:
            self.transport.write(b"".join(replies))

    def command(self, line: bytes) -> bytes | None:
        verb = line[:4].upper()
        if verb == b"EHLO":
            return EHLO
        if verb == b"HELO":
            return b"250 sink\r\n"
        if verb == b"DATA":
            self.in_data = True
            # DATA's own terminator may follow at once only after a blank body; the search covers "\r\n.\r\n"
            # from the start of the body, so keep a leading CRLF in view.
            self.buffer[0:0] = b"\r\n"
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb == b"QUIT":
            if self.transport is not None:
                self.transport.write(b"221 Bye\r\n")
                self.transport.close()
            return None
        if verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
            return b"250 Ok\r\n"
        return b"502 Command not implemented\r\n"


def main() -> None:
    """Run the sink."""
    sink_server.main(__doc__, SmtpSink)


if __name__ == "__main__":
    main()
