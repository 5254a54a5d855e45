"""Each contact's email events (type, campaign, time): what behaviour conditions of segments count.

Follows webhook deliveries like ``email_events`` and gives each row the same id (uuid5 of connection
and dedup key), so a re-delivered event is dropped here exactly as there: the first copy wins. A
``Renormalized`` delivery overwrites its events' rows, as in ``email_events``. The campaign is the one
the event's metadata names (``tidings_campaign_id``, sent with every message); an event without it is
attributed through the provider's message id to the message a run sent (``sent_messages``). The contact is the one
the recipient's normalized address names (``contact_id_for``), whether or not it exists yet, so an
event that arrives before its contact is created still counts once the contact is there. Events whose
recipient is no valid address link to no contact and are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.email_address import InvalidEmail, contact_id_for, normalize_email
from domain.email_event import NormalizedEvent
from domain.webhook_delivery import WebhookDelivery
from projections.db import Tx
from projections.email_events import TABLE as EMAIL_EVENTS
from projections.email_events import dropped_keys, event_id, stamp
from projections.projection import Projection
from projections.sent_messages import campaigns_of_provider_ids

TABLE = "contact_activity"
CAMPAIGN_KEY = "tidings_campaign_id"
COLUMNS = ("id", "contact_id", "type", "campaign_id", "occurred_at")
W = WebhookDelivery
_UPSERT = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
)


class ContactActivityProjection(Projection):
    """Email events by contact, for segment conditions."""

    name = TABLE
    version = 2
    topics = (get_topic(W.Received), get_topic(W.Renormalized))  # type: ignore[attr-defined]
    # Attribution by provider message id reads the messages runs sent; dropping a renormalized event
    # reads whether ``email_events`` still holds another delivery's copy of it.
    after = ("sent_messages", "email_events")

    def create_statements(self, dialect: str) -> Sequence[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id TEXT PRIMARY KEY, contact_id TEXT NOT NULL, "
            "type TEXT NOT NULL, campaign_id TEXT, occurred_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_type_time ON {TABLE} (type, occurred_at, contact_id)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_contact ON {TABLE} (contact_id, type, occurred_at)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_campaign ON {TABLE} (campaign_id, type, contact_id)",
        ]

    def tables(self) -> Sequence[str]:
        return [TABLE]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        # Runs of Received events become one insert: the hot path during intake.
        pending: list[tuple[Any, ...]] = []
        contacts = _Contacts(tx, events)
        for e in events:
            if isinstance(e, W.Received):  # type: ignore[attr-defined]
                pending.extend(row for n in e.events if (row := _row(e.connection_id, n, contacts)) is not None)
                continue
            tx.insert_new(TABLE, COLUMNS, pending)
            pending = []
            rows = [(n, _row(e.connection_id, n, contacts)) for n in e.events]
            tx.executemany(_UPSERT, [row for _, row in rows if row is not None])
            # A renormalized event whose recipient is no longer valid no longer links to a contact.
            gone = [(str(event_id(e.connection_id, n.key)),) for n, row in rows if row is None]
            tx.executemany(f"DELETE FROM {TABLE} WHERE id = ?", gone)
            dropped = [(str(event_id(e.connection_id, key)),) * 2 for key in dropped_keys(e)]
            tx.executemany(
                f"DELETE FROM {TABLE} WHERE id = ? AND NOT EXISTS (SELECT 1 FROM {EMAIL_EVENTS} WHERE id = ?)", dropped
            )
        tx.insert_new(TABLE, COLUMNS, pending)


class _Contacts(dict[str, str | None]):
    """Recipient -> contact id (None: no valid address), memoized for one batch: recipients repeat."""

    def __init__(self, tx: Tx, events: Sequence[Any]) -> None:
        super().__init__()
        # One lookup for the whole batch: events without our metadata, by the provider's message id.
        unattributed = (
            n.provider_message_id
            for e in events
            for n in e.events
            if n.provider_message_id and not n.metadata.get(CAMPAIGN_KEY)
        )
        self.by_provider_id = campaigns_of_provider_ids(tx, unattributed)

    def campaign(self, n: NormalizedEvent) -> str | None:
        """The campaign the event is about: from its metadata, else from the message the provider id names."""
        campaign = n.metadata.get(CAMPAIGN_KEY) or None
        if campaign is None and n.provider_message_id:
            campaign = self.by_provider_id.get(n.provider_message_id)
        return campaign

    def __missing__(self, recipient: str) -> str | None:
        try:
            contact_id: str | None = str(contact_id_for(normalize_email(recipient)))
        except InvalidEmail:
            contact_id = None
        self[recipient] = contact_id
        return contact_id


def _row(connection_id: UUID, n: NormalizedEvent, contacts: _Contacts) -> tuple[Any, ...] | None:
    contact_id = contacts[n.recipient]
    if contact_id is None:
        return None
    campaign = contacts.campaign(n)
    return (str(event_id(connection_id, n.key)), contact_id, n.type.value, campaign, stamp(n.occurred_at))
