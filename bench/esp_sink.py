"""A bulk-reading ESP batch endpoint for throughput benchmarks, shaped like Postmark's ``/email/batch``.

An HTTP/1.1 keep-alive server on a bare asyncio protocol: it reads each request's body by its
``Content-Length``, counts the JSON array's messages without decoding them (``msgspec.Raw``) and answers 200
with one accepted result per message, in order, as Postmark does. Meant to run in its own process so its
CPU is not billed to the sender.

    .venv/bin/python -m bench.esp_sink [--port 0]   # prints "port N", then on SIGTERM "messages N bytes N"
"""

from __future__ import annotations

import asyncio
import itertools

import msgspec

from bench import sink_server
from bench.sink_server import Totals

_ids = itertools.count(1)
_decoder = msgspec.json.Decoder(list[msgspec.Raw])


class EspSink(asyncio.Protocol):
    """One keep-alive connection: header block, then ``Content-Length`` bytes of body, then the reply."""

    def __init__(self, totals: Totals) -> None:
        self.totals = totals
        self.buffer = bytearray()
        self.needed: int | None = None  # body bytes still expected once the headers are read
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.needed is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buffer[:end]).lower()
                del self.buffer[: end + 4]
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line.startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                self.needed = length
            if len(self.buffer) < self.needed:
                return
            body = bytes(self.buffer[: self.needed])
            del self.buffer[: self.needed]
            self.needed = None
            self.reply(body)

    def reply(self, body: bytes) -> None:
        count = len(_decoder.decode(body)) if body else 0
        self.totals.messages += count
        self.totals.bytes += len(body)
        answer = b"[" + b",".join(
            b'{"ErrorCode":0,"Message":"OK","MessageID":"sink-%d"}' % next(_ids) for _ in range(count)
        ) + b"]"  # fmt: skip
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(answer)
        if self.transport is not None:
            self.transport.write(head + answer)


def main() -> None:
    """Run the sink."""
    sink_server.main(__doc__, EspSink)


if __name__ == "__main__":
    main()
