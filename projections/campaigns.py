"""Campaigns: each campaign's settings and workflow state, every content version, and the review trail
(who submitted, approved, requested changes on which version, when; and when an edit dropped a review)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.campaign import Campaign
from domain.campaign_workflow import Action, State, allowed_actions
from projections.db import Database, Tx
from projections.email_events import stamp
from projections.projection import Projection

TABLE = "campaigns"
VERSIONS = "campaigns_versions"
REVIEWS = "campaigns_reviews"

_REVIEW_ACTION: dict[type[Any], str] = {
    Campaign.Submitted: "submitted",
    Campaign.Approved: "approved",
    Campaign.ChangesRequested: "changes_requested",
    Campaign.ReturnedToDraft: "returned_to_draft",
}
# Back in draft, the approval, the schedule and any pause are void.
_TO_DRAFT = (
    "state = 'draft', paused_from = NULL, approved_version = NULL, approved_by = NULL, approved_at = NULL, "
    "scheduled_at = NULL, plan = NULL"
)


@dataclass(frozen=True)
class CampaignRow:
    """A campaign as the read model holds it."""

    id: UUID
    name: str
    notes: str
    state: str
    paused_from: str | None
    settings: dict[str, Any]
    current_version: int
    approved_version: int | None
    approved_by: str | None
    approved_at: str | None
    scheduled_at: str | None
    created_at: str
    created_by: str
    updated_at: str
    # The send plan (``domain.send_schedule.Schedule.to_dict``); None: one run at ``scheduled_at``, the next due.
    plan: dict[str, Any] | None = None

    @property
    def allowed(self) -> list[Action]:
        """The actions possible in this state."""
        return allowed_actions(State(self.state), State(self.paused_from) if self.paused_from else None)


@dataclass(frozen=True)
class VersionRow:
    """One immutable content version."""

    version: int
    subject: str
    preheader: str
    html: str
    text: str | None
    template_id: UUID | None
    template_version: int | None
    content_hash: str
    author: str
    created_at: str
    restored_from: int | None


@dataclass(frozen=True)
class ReviewRow:
    """One step of the review trail."""

    action: str
    version: int
    actor: str
    role: str | None
    comment: str | None
    reason: str | None
    at: str


def _settings(s: Any) -> dict[str, Any]:
    return {
        "category": s.category, "esp_connection_id": str(s.esp_connection_id) if s.esp_connection_id else None,
        "from_name": s.from_name, "from_address": s.from_address, "reply_to": s.reply_to,
        "include_segments": [str(i) for i in s.include_segments],
        "exclude_segments": [str(i) for i in s.exclude_segments],
    }  # fmt: skip


class CampaignsProjection(Projection):
    """Campaign rows, content versions and the review trail."""

    name = TABLE
    version = 2  # 2: the send plan
    topics = tuple(
        get_topic(getattr(Campaign, n))
        for n in ("Created", "Renamed", "NotesChanged", "Configured", "ContentSaved", "ReturnedToDraft", "Submitted",
                  "Approved", "ChangesRequested", "Scheduled", "Paused", "Resumed", "Cancelled", "SendingStarted",
                  "Sent", "NextRunScheduled")
    )  # fmt: skip

    def create_statements(self, dialect: str) -> Sequence[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id TEXT PRIMARY KEY, name TEXT NOT NULL, notes TEXT NOT NULL, "
            "state TEXT NOT NULL, paused_from TEXT, settings TEXT NOT NULL, current_version INTEGER NOT NULL, "
            "approved_version INTEGER, approved_by TEXT, approved_at TEXT, scheduled_at TEXT, "
            "created_at TEXT NOT NULL, created_by TEXT NOT NULL, updated_at TEXT NOT NULL, plan TEXT)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_state ON {TABLE} (state, scheduled_at)",
            f"CREATE TABLE IF NOT EXISTS {VERSIONS} (campaign_id TEXT NOT NULL, version INTEGER NOT NULL, "
            "subject TEXT NOT NULL, preheader TEXT NOT NULL, html TEXT NOT NULL, text TEXT, template_id TEXT, "
            "template_version INTEGER, content_hash TEXT NOT NULL, author TEXT NOT NULL, created_at TEXT NOT NULL, "
            "restored_from INTEGER, PRIMARY KEY (campaign_id, version))",
            f"CREATE TABLE IF NOT EXISTS {REVIEWS} (campaign_id TEXT NOT NULL, seq INTEGER NOT NULL, "
            "action TEXT NOT NULL, version INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT, comment TEXT, "
            "reason TEXT, at TEXT NOT NULL, PRIMARY KEY (campaign_id, seq))",
        ]

    def tables(self) -> Sequence[str]:
        return [TABLE, VERSIONS, REVIEWS]

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        for e in events:
            cid, at = str(e.originator_id), stamp(e.timestamp)
            # The review row first: a return to draft records the version it leaves, read from the row.
            if type(e) in _REVIEW_ACTION:
                _review(tx, cid, e, at)
            _HANDLERS[type(e)](tx, cid, e)
            if not isinstance(e, Campaign.Created):
                tx.execute(f"UPDATE {TABLE} SET updated_at = ? WHERE id = ?", (at, cid))


def _created(tx: Tx, cid: str, e: Any) -> None:
    at = stamp(e.timestamp)
    tx.execute(
        f"INSERT INTO {TABLE} (id, name, notes, state, settings, current_version, created_at, created_by, updated_at) "
        "VALUES (?, ?, ?, 'draft', ?, 0, ?, ?, ?)",
        (cid, e.name, e.notes, json.dumps(_settings(e.settings)), at, e.actor, at),
    )


def _content_saved(tx: Tx, cid: str, e: Any) -> None:
    c = e.content
    tx.execute(
        f"INSERT INTO {VERSIONS} (campaign_id, version, subject, preheader, html, text, template_id, template_version, "
        "content_hash, author, created_at, restored_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (cid, e.number, c.subject, c.preheader, c.html, c.text, str(c.template_id) if c.template_id else None,
         c.template_version, e.content_hash, e.author, stamp(e.saved_at), e.restored_from),
    )  # fmt: skip
    tx.execute(f"UPDATE {TABLE} SET current_version = ? WHERE id = ?", (e.number, cid))


def _approved(tx: Tx, cid: str, e: Any) -> None:
    tx.execute(
        f"UPDATE {TABLE} SET state = 'approved', approved_version = ?, approved_by = ?, approved_at = ? WHERE id = ?",
        (e.version, e.approver, stamp(e.timestamp), cid),
    )


def _review(tx: Tx, cid: str, e: Any, at: str) -> None:
    version = getattr(e, "version", None)
    if version is None:
        row = tx.execute(f"SELECT current_version FROM {TABLE} WHERE id = ?", (cid,)).fetchone()
        version = row["current_version"] if row else 0
    tx.execute(
        f"INSERT INTO {REVIEWS} (campaign_id, seq, action, version, actor, role, comment, reason, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (cid, e.originator_version, _REVIEW_ACTION[type(e)], version, e.actor, getattr(e, "role", None),
         e.comment, e.reason, at),
    )  # fmt: skip


def _set(sql: str, values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Tx, str, Any], None]:
    def handler(tx: Tx, cid: str, e: Any) -> None:
        tx.execute(f"UPDATE {TABLE} SET {sql} WHERE id = ?", (*values(e), cid))

    return handler


_HANDLERS: dict[type[Any], Callable[[Tx, str, Any], None]] = {
    Campaign.Created: _created,
    Campaign.ContentSaved: _content_saved,
    Campaign.Approved: _approved,
    Campaign.Renamed: _set("name = ?", lambda e: (e.name,)),
    Campaign.NotesChanged: _set("notes = ?", lambda e: (e.notes,)),
    Campaign.Configured: _set("settings = ?", lambda e: (json.dumps(_settings(e.settings)),)),
    Campaign.ReturnedToDraft: _set(_TO_DRAFT, lambda e: ()),
    Campaign.ChangesRequested: _set(_TO_DRAFT, lambda e: ()),
    Campaign.Submitted: _set("state = 'in_review'", lambda e: ()),
    Campaign.Scheduled: _set(
        "state = 'scheduled', scheduled_at = ?, plan = ?",
        lambda e: (stamp(e.scheduled_at), json.dumps(e.plan) if e.plan else None),
    ),
    Campaign.Paused: _set("state = 'paused', paused_from = ?", lambda e: (e.previous,)),
    Campaign.Resumed: _set("state = ?, paused_from = NULL", lambda e: (e.state,)),
    Campaign.Cancelled: _set("state = 'cancelled', paused_from = NULL", lambda e: ()),
    Campaign.SendingStarted: _set("state = 'sending'", lambda e: ()),
    Campaign.Sent: _set("state = 'sent'", lambda e: ()),
    Campaign.NextRunScheduled: _set("state = 'scheduled', scheduled_at = ?", lambda e: (stamp(e.scheduled_at),)),
}


_COLUMNS = (
    "id, name, notes, state, paused_from, settings, current_version, approved_version, approved_by, approved_at, "
    "scheduled_at, created_at, created_by, updated_at, plan"
)
_VERSION_COLUMNS = (
    "version, subject, preheader, html, text, template_id, template_version, content_hash, author, created_at, "
    "restored_from"
)


def _campaign(r: dict[str, Any]) -> CampaignRow:
    plan = json.loads(r["plan"]) if r["plan"] else None
    return CampaignRow(**{**r, "id": UUID(r["id"]), "settings": json.loads(r["settings"]), "plan": plan})


def _version(r: dict[str, Any]) -> VersionRow:
    return VersionRow(**{**r, "template_id": UUID(r["template_id"]) if r["template_id"] else None})


def get_campaign(db: Database, campaign_id: UUID) -> CampaignRow | None:
    """One campaign by id."""
    rows = db.query(f"SELECT {_COLUMNS} FROM {TABLE} WHERE id = ?", (str(campaign_id),))
    return _campaign(rows[0]) if rows else None


def list_campaigns(db: Database, state: str | None = None) -> list[CampaignRow]:
    """Campaigns, newest first, optionally only those in ``state``."""
    where, params = (" WHERE state = ?", (state,)) if state else ("", ())
    return [
        _campaign(r) for r in db.query(f"SELECT {_COLUMNS} FROM {TABLE}{where} ORDER BY created_at DESC, id", params)
    ]


def versions(db: Database, campaign_id: UUID) -> list[VersionRow]:
    """Every content version of a campaign, oldest first."""
    sql = f"SELECT {_VERSION_COLUMNS} FROM {VERSIONS} WHERE campaign_id = ? ORDER BY version"
    return [_version(r) for r in db.query(sql, (str(campaign_id),))]


def get_version(db: Database, campaign_id: UUID, version: int) -> VersionRow | None:
    """Content version ``version`` of a campaign."""
    sql = f"SELECT {_VERSION_COLUMNS} FROM {VERSIONS} WHERE campaign_id = ? AND version = ?"
    rows = db.query(sql, (str(campaign_id), version))
    return _version(rows[0]) if rows else None


def reviews(db: Database, campaign_id: UUID) -> list[ReviewRow]:
    """The review trail of a campaign, oldest first."""
    sql = f"SELECT action, version, actor, role, comment, reason, at FROM {REVIEWS} WHERE campaign_id = ? ORDER BY seq"
    return [ReviewRow(**r) for r in db.query(sql, (str(campaign_id),))]
