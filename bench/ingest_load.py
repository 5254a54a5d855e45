"""The load side of bench.ingest: signed SendGrid-style bodies, posted from separate processes."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from typing import Any

import httpx
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


def post_all(url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> list[tuple[int, int, float]]:
    """Post every request with ``concurrency`` connections; (status, events acked, seconds) each."""
    return asyncio.run(_post_all(url, requests, concurrency))


async def _post_all(url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> list[Any]:
    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    results: list[tuple[int, int, float]] = []
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                body, headers = queue.get_nowait()
                started = time.perf_counter()
                try:
                    response = await client.post(url, content=body, headers=headers)
                    acked = response.json().get("events", 0) if response.status_code == 200 else 0
                    results.append((response.status_code, acked, time.perf_counter() - started))
                except httpx.HTTPError:
                    results.append((0, 0, time.perf_counter() - started))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results
