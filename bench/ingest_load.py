"""The load side of bench.ingest: signed SendGrid-style bodies, posted from separate processes."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

EVENT_TYPES = ("processed", "delivered", "open", "click", "bounce", "deferred")


def new_key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A P-256 key pair; the public half as SendGrid shows it (base64 DER, no PEM armour)."""
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, base64.b64encode(der).decode()


def events(count: int, start: int) -> list[dict[str, Any]]:
    """SendGrid event objects with unique ids (so every one is new to the dedup)."""
    now = int(time.time())
    return [
        {
            "email": f"user{(start + i) % 50_000}@example.com",
            "timestamp": now,
            "event": EVENT_TYPES[i % len(EVENT_TYPES)],
            "sg_event_id": f"ev-{uuid.uuid4().hex}",
            "sg_message_id": f"msg{start + i}.filter0001.16648.5515E0B88.0",
            "smtp-id": f"<msg{start + i}@example.com>",
            "category": ["newsletter"],
            "tidings_message_id": str(uuid.uuid4()),
            **({"type": "bounce", "reason": "550 5.1.1 no such user", "status": "5.1.1"} if i % 6 == 4 else {}),
            **({"url": "https://example.com/offer", "useragent": "Mozilla/5.0"} if i % 6 == 3 else {}),
        }
        for i in range(count)
    ]


def signed(key: ec.EllipticCurvePrivateKey, payload: list[dict[str, Any]]) -> tuple[bytes, dict[str, str]]:
    """Body and headers as SendGrid sends them (signature over timestamp + body)."""
    body = json.dumps(payload, separators=(",", ":")).encode() + b"\r\n"
    timestamp = str(int(time.time()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return body, {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }


def ready(_: object = None) -> bool:
    """A no-op run in every client process before the clock starts, so imports are not timed."""
    return True


def post_all(
    url: str,
    requests: list[tuple[bytes, dict[str, str]]],
    concurrency: int,
    start_at: float,
    rate: float | None = None,
    method: str = "POST",
) -> tuple[list[tuple[int, int, float]], float]:
    """Post every request over ``concurrency`` keep-alive connections, from wall-clock time ``start_at``.

    Closed loop when ``rate`` is None (each connection sends its next request when the last one is
    answered: the most the server takes). Open loop otherwise: request i is due at ``start_at + i / rate``
    and its latency counts from that moment, so a server that falls behind is charged for the queue it
    causes (no coordinated omission). Returns (status, events acked, seconds) per request, and the
    wall-clock time the last answer arrived.
    """
    # The load generator's own collector pauses (15 ms for a full collection of this heap) would be billed
    # to the server as latency: nothing is collected while the clock runs.
    gc.collect()
    gc.disable()
    try:
        return asyncio.run(_post_all(url, requests, concurrency, start_at, rate, method))
    finally:
        gc.enable()


async def _post_all(
    url: str,
    requests: list[tuple[bytes, dict[str, str]]],
    concurrency: int,
    start_at: float,
    rate: float | None,
    method: str,
) -> tuple[list[tuple[int, int, float]], float]:
    # A bare HTTP/1.1 client: httpx costs ~1 ms of CPU per request, which on two shared cores made the
    # load generator, not the server, the bottleneck.
    parts = urlsplit(url)
    queue: asyncio.Queue[tuple[int, bytes, dict[str, str]]] = asyncio.Queue()
    for i, (body, headers) in enumerate(requests):
        queue.put_nowait((i, body, headers))
    results: list[tuple[int, int, float]] = []
    connections = [await asyncio.open_connection(parts.hostname, parts.port) for _ in range(concurrency)]
    await asyncio.sleep(max(0.0, start_at - time.time()))
    # perf_counter for intervals; start_at only lines the client processes up.
    origin = time.perf_counter()

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while not queue.empty():
                i, body, headers = queue.get_nowait()
                due = origin + i / rate if rate else time.perf_counter()
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                start = f"{method} {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                request = f"{start}{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
                writer.write(request)
                status, payload = await _response(reader)
                acked = json.loads(payload).get("events", 0) if status == 200 and method == "POST" else 0
                results.append((status, acked, time.perf_counter() - due))
        finally:
            writer.close()

    await asyncio.gather(*(worker(r, w) for r, w in connections))
    return results, time.time()


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    return status, await reader.readexactly(length)
