"""A bulk-reading ESP batch endpoint for throughput benchmarks, shaped like Postmark's ``/email/batch``.

An HTTP/1.1 keep-alive server on a bare asyncio protocol: it reads each request's body by its
``Content-Length``, counts the JSON array's messages without decoding them (``msgspec.Raw``) and answers 200
with one accepted result per message, in order, as Postmark does. Meant to run in its own process so its
CPU is not billed to the sender.

    .venv/bin/python -m bench.esp_sink [--port 0]   # prints "port N", then on SIGTERM "messages N bytes N"
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal

import msgspec

_ids = itertools.count(1)
_decoder = msgspec.json.Decoder(list[msgspec.Raw])


class Totals:
    """What the sink has taken so far."""

    messages = 0
    bytes = 0


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


async def serve(port: int) -> None:
    """Serve until SIGTERM or SIGINT, then print the totals."""
    totals = Totals()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: EspSink(totals), "127.0.0.1", port)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    print(f"messages {totals.messages} bytes {totals.bytes}", flush=True)


def main() -> None:
    """Run the sink."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
