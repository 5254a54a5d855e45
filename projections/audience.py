"""A campaign's audience: who its include segments select, less everyone a rule removes, in one SQL pass.

The rules are applied in a fixed order (``RULES``); the first rule that removes a contact is the one
counted, so a contact removed by an earlier rule is never counted again by a later one, and the
removals add up: ``included - sum(removed) == count``. After the segments, the order and the meaning
are those of ``projections.eligibility`` (suppressed, opted out, unsubscribed from the category, paused,
over the frequency cap): targeting counts what delivery will later re-check contact by contact.

The SQL itself (segments from maintained memberships or compiled definitions, one predicate per rule) is
built by ``projections.audience_plan``; this module runs it: counts, recipient pages, the member stream.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.campaign_settings import CampaignSettings
from projections.audience_plan import RULES, Bound, build_plan, cat
from projections.contacts import TABLE as CONTACTS
from projections.db import Database
from projections.segment_engine.sql import Sql

__all__ = ["RULES", "AudienceCount", "BadCursor", "Recipient", "RecipientsPage", "RuleOutcome", "audience",
           "audience_sql", "decode_cursor", "encode_cursor", "member_ids", "members", "recipients"]  # fmt: skip
MAX_LIMIT = 500
CHUNK = 20_000
MAX_PARTS = 4096


class BadCursor(ValueError):
    """A recipients cursor that this module did not hand out."""


@dataclass(frozen=True)
class RuleOutcome:
    """How many contacts one rule removed and how many were left after it."""

    rule: str
    removed: int
    remaining: int


@dataclass(frozen=True)
class AudienceCount:
    """The include segments' contacts, then each rule's removals; ``count`` is who remains."""

    included: int
    rules: list[RuleOutcome]

    @property
    def count(self) -> int:
        """The audience size after every rule."""
        return self.rules[-1].remaining if self.rules else self.included


@dataclass(frozen=True)
class Recipient:
    """One contact in the audience, as the recipient preview shows it."""

    id: UUID
    email: str
    timezone: str | None
    locale: str | None


@dataclass(frozen=True)
class RecipientsPage:
    """Recipients in contact id order; ``next_cursor`` is None on the last page."""

    items: list[Recipient]
    next_cursor: str | None


def audience(db: Database, settings: CampaignSettings, now: datetime, *, use_memberships: bool = True) -> AudienceCount:
    """The audience size and how many contacts each rule in ``RULES`` removed, at ``now``."""
    plan = build_plan(db, settings, now, (), use_memberships)
    case = cat(Sql("CASE"), *(r.wrap(f" WHEN {{}} THEN '{name}'") for name, r in zip(RULES, plan.rules, strict=True)))
    query = cat(plan.ctes, Sql(" SELECT "), case, Sql(" ELSE '' END AS removed_by "), plan.source)
    rows = db.query(f"SELECT removed_by, COUNT(*) AS n FROM ({query.text}) a GROUP BY removed_by", query.params)
    removed = {r["removed_by"]: int(r["n"]) for r in rows}
    remaining = included = sum(removed.values())
    outcomes = []
    for rule in RULES:
        remaining -= removed.get(rule, 0)
        outcomes.append(RuleOutcome(rule, removed.get(rule, 0), remaining))
    return AudienceCount(included, outcomes)


def recipients(
    db: Database,
    settings: CampaignSettings,
    now: datetime,
    *,
    cursor: str | None = None,
    limit: int = 100,
    q: str | None = None,
    use_memberships: bool = True,
) -> RecipientsPage:
    """Recipients after ``cursor`` in id order, at most ``limit``; ``q`` keeps emails containing it (any case)."""
    limit = max(1, min(limit, MAX_LIMIT))
    bounds = [(">", decode_cursor(cursor))] if cursor else []
    match = Sql(" AND c.email LIKE ? ESCAPE '\\'", (f"%{_escape_like(q.lower())}%",)) if q else Sql("")
    rows = _select(db, settings, now, bounds, use_memberships=use_memberships, match=match, limit=limit + 1)
    items = [Recipient(UUID(r["id"]), r["email"], r["timezone"], r["locale"]) for r in rows[:limit]]
    return RecipientsPage(items, encode_cursor(items[-1].id) if len(rows) > limit else None)


def members(
    db: Database, settings: CampaignSettings, now: datetime, chunk: int = CHUNK, *, use_memberships: bool = True
) -> Iterator[list[Recipient]]:
    """Every audience member in id order, in lists of about ``chunk``: the delivery snapshot's input.

    Contact ids are uniform hashes (uuid5), so the id space is cut into as many equal ranges as the contacts
    need chunks; each range is one query, and none holds much more than ``chunk`` rows. Few, large ranges
    on purpose: on SQLite every query pays once for the segments' sets, whatever the range.
    """
    total = int(db.query(f"SELECT COUNT(*) AS n FROM {CONTACTS}")[0]["n"])
    parts = min(max(1, -(-total // max(1, chunk))), MAX_PARTS)
    edges = [format(k * 16**8 // parts, "08x") for k in range(1, parts)]
    for low, high in zip([None, *edges], [*edges, None], strict=True):
        bounds = [*([(">=", low)] if low else []), *([("<", high)] if high else [])]
        rows = _select(db, settings, now, bounds, use_memberships=use_memberships, match=Sql(""), limit=None)
        if rows:
            yield [Recipient(UUID(r["id"]), r["email"], r["timezone"], r["locale"]) for r in rows]


def member_ids(
    db: Database, settings: CampaignSettings, now: datetime, chunk: int = CHUNK, *, use_memberships: bool = True
) -> Iterator[list[UUID]]:
    """Every audience contact id in id order, in lists of about ``chunk`` (see ``members``)."""
    for part in members(db, settings, now, chunk, use_memberships=use_memberships):
        yield [r.id for r in part]


def audience_sql(db: Database, settings: CampaignSettings, now: datetime, *, use_memberships: bool = True) -> Sql:
    """A WITH clause whose last CTE, ``audience (id)``, holds the audience's contact ids (queries continue it)."""
    plan = build_plan(db, settings, now, (), use_memberships)
    keep = cat(*(r.wrap(" AND NOT {}") for r in plan.rules))
    return cat(plan.ctes, Sql(", audience AS (SELECT c.id AS id "), plan.source, Sql(" WHERE 1 = 1"), keep, Sql(")"))


def encode_cursor(contact_id: UUID) -> str:
    """The opaque cursor that continues after ``contact_id``."""
    return base64.urlsafe_b64encode(b"r1:" + contact_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The contact id a cursor continues after; ``BadCursor`` for anything ``encode_cursor`` did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise BadCursor("cursor must be a next_cursor value returned by this endpoint") from None
    if len(raw) != 19 or not raw.startswith(b"r1:"):
        raise BadCursor("cursor must be a next_cursor value returned by this endpoint")
    return str(UUID(bytes=raw[3:]))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _select(
    db: Database,
    settings: CampaignSettings,
    now: datetime,
    bounds: Sequence[Bound],
    *,
    use_memberships: bool,
    match: Sql,
    limit: int | None,
) -> list[dict[str, object]]:
    plan = build_plan(db, settings, now, bounds, use_memberships)
    keep = cat(*(r.wrap(" AND NOT {}") for r in plan.rules))
    tail = Sql(" ORDER BY c.id LIMIT ?", (limit,)) if limit is not None else Sql(" ORDER BY c.id")
    query = cat(
        plan.ctes, Sql(" SELECT c.id, c.email, c.timezone, c.locale "), plan.source, Sql(" WHERE 1 = 1"),
        keep, match, tail,
    )  # fmt: skip
    return db.query(query.text, query.params)
