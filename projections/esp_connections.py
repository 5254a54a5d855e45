"""The ESP connection read model: what the webhook route verifies against and what the API lists."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.esp_connection import EspConnection
from projections.db import Database, Tx
from projections.projection import Projection

TABLE = "esp_connections"
E = EspConnection


@dataclass(frozen=True)
class ConnectionRow:
    """One connection, including its webhook secrets (never returned by the API)."""

    id: UUID
    name: str
    provider: str
    enabled: bool
    webhook: dict[str, Any]
    previous_webhook: dict[str, Any] | None
    previous_valid_until: str | None
    pending_subscription: dict[str, Any] | None
    created_at: str
    updated_at: str
    # {"domains", "rate_per_second", "concurrency", "transport", "transport_settings"}; {} until configured.
    sending: dict[str, Any]

    @property
    def sending_domains(self) -> list[str]:
        """Domains a from-address may use through this connection."""
        return list(self.sending.get("domains", []))

    def active_webhooks(self, now: datetime) -> list[dict[str, Any]]:
        """Settings a delivery may verify against at ``now``, newest first."""
        active = [self.webhook]
        if (
            self.previous_webhook
            and self.previous_valid_until
            and now < datetime.fromisoformat(self.previous_valid_until)
        ):
            active.append(self.previous_webhook)
        return active


class EspConnectionsProjection(Projection):
    """Connections by id."""

    name = TABLE
    version = 2
    topics = tuple(
        get_topic(getattr(E, n))
        for n in (
            "Connected", "Renamed", "WebhookRotated", "Disabled", "Enabled", "SubscriptionRequested",
            "SendingConfigured",
        )
    )  # fmt: skip

    def create_statements(self, dialect: str) -> Sequence[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id TEXT PRIMARY KEY, name TEXT NOT NULL, provider TEXT NOT NULL, "
            "enabled INTEGER NOT NULL, webhook TEXT NOT NULL, previous_webhook TEXT, previous_valid_until TEXT, "
            "pending_subscription TEXT, sending TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, "
            "updated_at TEXT NOT NULL)"
        ]

    def tables(self) -> Sequence[str]:
        return [TABLE]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        for e in events:
            cid, at = str(e.originator_id), _utc(e.timestamp)
            if isinstance(e, E.Connected):  # type: ignore[attr-defined]
                tx.execute(
                    f"INSERT INTO {TABLE} (id, name, provider, enabled, webhook, created_at, updated_at) "
                    "VALUES (?, ?, ?, 1, ?, ?, ?)",
                    (cid, e.name, e.provider, json.dumps(e.webhook), at, at),
                )
            elif isinstance(e, E.WebhookRotated):  # type: ignore[attr-defined]
                tx.execute(
                    f"UPDATE {TABLE} SET previous_webhook = webhook, webhook = ?, previous_valid_until = ?, "
                    "updated_at = ? WHERE id = ?",
                    (json.dumps(e.webhook), _utc(e.previous_valid_until), at, cid),
                )
            elif isinstance(e, E.SendingConfigured):  # type: ignore[attr-defined]
                sending = {
                    "domains": e.domains, "rate_per_second": e.rate_per_second, "concurrency": e.concurrency,
                    "transport": e.transport, "transport_settings": e.transport_settings,
                }  # fmt: skip
                tx.execute(
                    f"UPDATE {TABLE} SET sending = ?, updated_at = ? WHERE id = ?", (json.dumps(sending), at, cid)
                )
            else:
                column, value = _simple_change(e)
                tx.execute(f"UPDATE {TABLE} SET {column} = ?, updated_at = ? WHERE id = ?", (value, at, cid))


def _simple_change(e: Any) -> tuple[str, Any]:
    if isinstance(e, E.Renamed):  # type: ignore[attr-defined]
        return "name", e.name
    if isinstance(e, E.Disabled | E.Enabled):  # type: ignore[attr-defined]
        return "enabled", int(isinstance(e, E.Enabled))  # type: ignore[attr-defined]
    pending = None if e.confirmed else json.dumps({"topic_arn": e.topic_arn, "subscribe_url": e.subscribe_url})
    return "pending_subscription", pending


def _utc(moment: datetime) -> str:
    return moment.isoformat()


def _row(r: dict[str, Any]) -> ConnectionRow:
    def load(v: str | None) -> Any:
        return json.loads(v) if v else None

    return ConnectionRow(
        id=UUID(r["id"]),
        name=r["name"],
        provider=r["provider"],
        enabled=bool(r["enabled"]),
        webhook=json.loads(r["webhook"]),
        previous_webhook=load(r["previous_webhook"]),
        previous_valid_until=r["previous_valid_until"],
        pending_subscription=load(r["pending_subscription"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        sending=json.loads(r["sending"] or "{}"),
    )


def get_connection(db: Database, connection_id: UUID) -> ConnectionRow | None:
    """One connection by id."""
    rows = db.query(f"SELECT * FROM {TABLE} WHERE id = ?", (str(connection_id),))
    return _row(rows[0]) if rows else None


def list_connections(db: Database) -> list[ConnectionRow]:
    """All connections, oldest first."""
    return [_row(r) for r in db.query(f"SELECT * FROM {TABLE} ORDER BY created_at, id")]
