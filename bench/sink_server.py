"""What the bench's sinks share: their totals, and serving one protocol until SIGTERM (``bench.send`` reads the
``port N`` line first and the ``messages M bytes B`` line last)."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable


class Totals:
    """What a sink has taken so far."""

    messages = 0
    bytes = 0


async def serve(protocol: Callable[[Totals], asyncio.Protocol], port: int) -> None:
    """Serve ``protocol`` on 127.0.0.1 until SIGTERM or SIGINT, then print the totals."""
    totals = Totals()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: protocol(totals), "127.0.0.1", port)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    print(f"messages {totals.messages} bytes {totals.bytes}", flush=True)


def main(description: str | None, protocol: Callable[[Totals], asyncio.Protocol]) -> None:
    """Parse ``--port`` (0: any free one) and serve."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve(protocol, parser.parse_args().port))
