"""The policies reactor (ADR 0004 §5): follows webhook deliveries and issues what their events call for.

It reads the log behind ``email_events`` (soft-bounce counts, which copy of an event came first),
``contact_activity``, ``suppressions`` and ``preferences`` (the categories), so what it reads already
holds every event it reacts to. Delivery is at least once — a batch may be reacted to again after a
crash — and every command carries the normalized event's stable id as its ``cause``, which the
aggregates remember, so a repeat changes nothing.

An event is followed only in the delivery that first recorded it (the one its ``email_events`` row
names; a ``Renormalized`` delivery re-runs its own events): a webhook the ESP delivers again is then
ignored outright, rather than re-decided against state that later events may have changed. Without
this, a copy of a change that found nothing to do (say, an unsubscribe of a contact already opted out)
would apply when it arrived again after a newer resubscribe.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.utils import get_topic

from application.email_policies import POLICY_TYPES, EmailPolicies, Followed, busiest_window, is_soft_bounce
from domain.email_event import NormalizedEvent
from domain.webhook_delivery import WebhookDelivery
from projections.contact_activity import ContactActivityProjection
from projections.db import Database
from projections.email_events import TABLE as EMAIL_EVENTS
from projections.email_events import EmailEventsProjection, event_id, stamp
from projections.preferences import PreferencesProjection, list_categories
from projections.projection import Reactor
from projections.suppressions import SuppressionsProjection

NAME = "email_policies"
W = WebhookDelivery
# Soft-bounce counting reads one recipient's rows up to a seq: email_events' own (recipient, seq) index
# serves it. An index of this reactor's on that table was tried and dropped: CREATE INDEX takes a SHARE
# lock on the table at every start (IF NOT EXISTS checks only after locking), which deadlocked against a
# running runner's inserts whenever a second process (worker, CLI) started.
# Bound on ids per IN (...) list: SQLite's default variable limit is far above, PostgreSQL has none.
_CHUNK = 500
# Events whose commands are saved in one transaction: big enough to amortize the commit, small enough
# that a version clash with an admin's change re-decides little.
_FOLLOW_CHUNK = 200


class EmailPoliciesReactor(Reactor):
    """Hard bounces, complaints, soft-bounce runs, ESP unsubscribes/resubscribes and ESP suppression lists."""

    name = NAME
    version = 1
    topics = (get_topic(W.Received), get_topic(W.Renormalized))  # type: ignore[attr-defined]
    after = (
        EmailEventsProjection.name,
        ContactActivityProjection.name,
        SuppressionsProjection.name,
        PreferencesProjection.name,
    )

    def __init__(self, policies: EmailPolicies, db: Database) -> None:
        self.policies = policies
        self.db = db

    def react(self, events: Sequence[Any]) -> None:
        # Most events are deliveries, opens and clicks: nothing is queried unless a policy follows one.
        todo = [
            (e, n, str(event_id(e.connection_id, n.key))) for e in events for n in e.events if n.type in POLICY_TYPES
        ]
        if not todo:
            return
        first_delivery = _first_deliveries(self.db, [cause for _, _, cause in todo])
        categories = {c.key: c.archived for c in list_categories(self.db, include_archived=True)}
        done: set[str] = set()
        items: list[Followed] = []
        for e, n, cause in todo:
            delivery = str(e.originator_id)
            if cause in done or first_delivery.get(cause, delivery) != delivery:
                continue
            done.add(cause)
            count = soft_bounces(self.db, n, cause, self.policies.rule.window) if is_soft_bounce(n) else 0
            items.append(Followed(e.connection_id, n, cause, count, e.request_id))
        # One transaction per chunk rather than per command: a bounce in every sixth event of a busy
        # intake made a commit each and kept the read models thousands of commits behind the acks.
        for i in range(0, len(items), _FOLLOW_CHUNK):
            self.policies.follow_all(items[i : i + _FOLLOW_CHUNK], categories)


def soft_bounces(db: Database, event: NormalizedEvent, cause: str, window: timedelta) -> int:
    """The recipient's distinct soft bounces in the busiest ``window`` holding ``event`` (``busiest_window``).

    Only those recorded up to this one count (``seq``): email_events may already hold later deliveries,
    and the answer must not depend on how far it had got, so that a re-run decides as the first run did.
    """
    rows = db.query(
        f"SELECT occurred_at FROM {EMAIL_EVENTS} WHERE recipient = ? AND type = 'bounced' "
        "AND bounce_class = 'soft' AND occurred_at > ? AND occurred_at < ? "
        f"AND seq <= (SELECT seq FROM {EMAIL_EVENTS} WHERE id = ?)",
        (event.recipient, stamp(event.occurred_at - window), stamp(event.occurred_at + window), cause),
    )
    times = [datetime.fromisoformat(r["occurred_at"]) for r in rows]
    return busiest_window(times, event.occurred_at, window) if times else 0


def _first_deliveries(db: Database, ids: Sequence[str]) -> dict[str, str]:
    """Normalized event id → the delivery whose copy of it email_events kept (the first recorded)."""
    found: dict[str, str] = {}
    unique = sorted(set(ids))
    for i in range(0, len(unique), _CHUNK):
        chunk = unique[i : i + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        rows = db.query(f"SELECT id, delivery_id FROM {EMAIL_EVENTS} WHERE id IN ({marks})", tuple(chunk))
        found.update({r["id"]: r["delivery_id"] for r in rows})
    return found
