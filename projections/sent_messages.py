"""Every message a campaign run handed over, by our message id and by the provider's: attribution's index.

Built from the delivery record (``DeliveryRun.Started`` names a run's campaign; ``DeliveryBatch.Recorded``
lists each sent message with the id the provider gave it). Webhook events that carry our metadata are
attributed by it; events that do not (a plain SMTP relay, an ESP that drops custom data on some event
types) are attributed by the provider's message id through this table. The ids providers report in
webhooks sometimes extend the id their send API returned (SendGrid's ``sg_message_id`` is the
``X-Message-Id`` followed by ``.filter...``), so lookups also try the part before the first dot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.utils import get_topic

from domain.delivery_run import DeliveryBatch, DeliveryRun
from projections.db import Database, Tx
from projections.email_events import stamp
from projections.projection import Projection

TABLE = "sent_messages"
RUNS = "sent_messages_runs"


class SentMessagesProjection(Projection):
    """Sent messages with their campaign, run and provider id."""

    name = TABLE
    version = 1
    topics = (get_topic(DeliveryRun.Started), get_topic(DeliveryBatch.Recorded))  # type: ignore[attr-defined]

    def create_statements(self, dialect: str) -> Sequence[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {RUNS} (run_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {TABLE} (message_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, "
            "campaign_id TEXT NOT NULL, provider_message_id TEXT, sent_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_provider ON {TABLE} (provider_message_id)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_campaign ON {TABLE} (campaign_id, sent_at)",
        ]

    def tables(self) -> Sequence[str]:
        return [TABLE, RUNS]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        campaigns: dict[str, str] = {}
        for e in events:
            run = str(e.originator_id if isinstance(e, DeliveryRun.Started) else e.run_id)  # type: ignore[attr-defined]
            if isinstance(e, DeliveryRun.Started):  # type: ignore[attr-defined]
                campaigns[run] = str(e.campaign_id)
                tx.execute(
                    f"INSERT INTO {RUNS} (run_id, campaign_id) VALUES (?, ?) ON CONFLICT (run_id) DO NOTHING",
                    (run, campaigns[run]),
                )
                continue
            if not e.sent:
                continue
            if run not in campaigns:
                found = tx.execute(f"SELECT campaign_id FROM {RUNS} WHERE run_id = ?", (run,)).fetchone()
                campaigns[run] = found["campaign_id"] if found else ""
            at = stamp(e.attempt_at)
            # The first record of a message wins: a batch recorded again after a crash changes nothing.
            tx.executemany(
                f"INSERT INTO {TABLE} (message_id, run_id, campaign_id, provider_message_id, sent_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
                [(m, run, campaigns[run], p.strip("<>") if p else None, at) for m, p in e.sent],
            )


def _candidates(provider_message_id: str) -> list[str]:
    bare = provider_message_id.strip().strip("<>")
    return [bare, bare.split(".", 1)[0]] if "." in bare else [bare]


def campaigns_of_provider_ids(tx: Tx, provider_message_ids: Iterable[str]) -> dict[str, str]:
    """Provider message id -> campaign, for those that name a message a run sent (one query per 500 ids)."""
    wanted = {pid: _candidates(pid) for pid in set(provider_message_ids)}
    keys = sorted({c for cs in wanted.values() for c in cs})
    found: dict[str, str] = {}
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = tx.execute(
            f"SELECT provider_message_id, campaign_id FROM {TABLE} WHERE provider_message_id IN ({marks})", chunk
        ).fetchall()
        found.update((r["provider_message_id"], r["campaign_id"]) for r in rows)
    return {pid: next(found[c] for c in cs if c in found) for pid, cs in wanted.items() if any(c in found for c in cs)}


def sent_count(db: Database, campaign_id: str) -> int:
    """Messages of the campaign handed over successfully."""
    return int(db.query(f"SELECT COUNT(*) AS n FROM {TABLE} WHERE campaign_id = ?", (campaign_id,))[0]["n"])
