"""A batch with the transport: its claim, what was settled without sending, and the send in progress.

The worker keeps one of these while it claims and renders the next batch (ADR 0005: only one batch at a
time is handed over and not yet recorded).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import UUID

from interfaces.delivery.queue import QueuedMessage
from interfaces.transports.base import OutgoingMessage, SendResult, Transport


@dataclass
class HandOver:
    """One claimed batch being sent."""

    token: UUID
    claimed: list[QueuedMessage]
    skipped: list[tuple[UUID, str]]
    failed: list[tuple[UUID, str]]
    task: asyncio.Task[list[SendResult]]

    @classmethod
    def start(
        cls, transport: Transport, token: UUID, claimed: list[QueuedMessage], messages: list[OutgoingMessage], *,
        skipped: list[tuple[UUID, str]], failed: list[tuple[UUID, str]],
    ) -> HandOver:  # fmt: skip
        """Hand ``messages`` to ``transport`` in a task of their own (none: an empty result at once)."""
        return cls(token, claimed, skipped, failed, asyncio.create_task(_send(transport, messages)))


async def _send(transport: Transport, messages: list[OutgoingMessage]) -> list[SendResult]:
    return await transport.send(messages) if messages else []
