"""A campaign's audience: who its include segments select, less everyone a rule removes, in one SQL pass.

The rules are applied in a fixed order (``RULES``); the first rule that removes a contact is the one
counted, so a contact removed by an earlier rule is never counted again by a later one, and the
removals add up: ``included - sum(removed) == count``. After the segments, the order and the meaning
are those of ``projections.eligibility`` (suppressed, opted out, unsubscribed from the category, paused,
over the frequency cap): targeting counts what delivery will later re-check contact by contact.

Segments are read from ``segment_memberships`` when that table is current (it has caught up with every
read model it follows, the segment was evaluated, and its definition does not move with the clock);
otherwise their definitions are compiled at ``now``. Both give the same members.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.campaign_settings import CampaignSettings
from domain.preference_category import UnknownCategory
from projections.contact_activity import TABLE as ACTIVITY
from projections.contacts import TABLE as CONTACTS
from projections.db import Database
from projections.eligibility import DIGEST_PERIODS, SENT_TYPES, WINDOWS, IneligibleReason
from projections.email_events import stamp
from projections.preferences import CATEGORIES, CHOICES
from projections.preferences import TABLE as PREFERENCES
from projections.runner import POSITIONS_TABLE
from projections.segment_engine import parse
from projections.segment_engine.sql import FALSE, Sql
from projections.segment_memberships import COUNTS as MEMBER_COUNTS
from projections.segment_memberships import TABLE as MEMBERSHIPS
from projections.segment_memberships import SegmentMembershipsProjection
from projections.segments import get_segment
from projections.suppressions import TABLE as SUPPRESSIONS

R = IneligibleReason
EXCLUDED = "excluded_segments"
RULES = (EXCLUDED, R.SUPPRESSED.value, R.OPTED_OUT.value, R.UNSUBSCRIBED_FROM_CATEGORY.value, R.PAUSED.value,
         R.FREQUENCY_CAP.value)  # fmt: skip
MAX_LIMIT = 500
CHUNK = 5000
_NONE = f"SELECT id FROM {CONTACTS} WHERE 1 = 0"


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


@dataclass(frozen=True)
class _Plan:
    """The CTEs, the FROM clause and one removal predicate per rule (each TRUE or FALSE, never NULL)."""

    ctes: Sql
    source: Sql
    rules: list[Sql]


def audience(db: Database, settings: CampaignSettings, now: datetime, *, use_memberships: bool = True) -> AudienceCount:
    """The audience size and how many contacts each rule in ``RULES`` removed, at ``now``."""
    plan = _plan(db, settings, now, (), use_memberships)
    case = _cat(Sql("CASE"), *(r.wrap(f" WHEN {{}} THEN '{name}'") for name, r in zip(RULES, plan.rules, strict=True)))
    query = _cat(plan.ctes, Sql(" SELECT "), case, Sql(" ELSE '' END AS removed_by "), plan.source)
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


def member_ids(
    db: Database, settings: CampaignSettings, now: datetime, chunk: int = CHUNK, *, use_memberships: bool = True
) -> Iterator[list[UUID]]:
    """Every audience contact id in id order, in lists of about ``chunk``: the delivery snapshot's input.

    Contact ids are uniform hashes (uuid5), so the id space is cut into equal prefix ranges sized from
    the number of contacts; each range is one query, and no query holds more than about ``chunk`` rows.
    """
    total = int(db.query(f"SELECT COUNT(*) AS n FROM {CONTACTS}")[0]["n"])
    digits = 0
    while 16**digits * chunk < total and digits < 4:
        digits += 1
    starts = [format(i, f"0{digits}x") for i in range(16**digits)] if digits else [""]
    for i, start in enumerate(starts):
        bounds = [(">=", start)] if start else []
        if i + 1 < len(starts):
            bounds.append(("<", starts[i + 1]))
        rows = _select(db, settings, now, bounds, use_memberships=use_memberships, match=Sql(""), limit=None)
        if rows:
            yield [UUID(r["id"]) for r in rows]


def audience_sql(db: Database, settings: CampaignSettings, now: datetime, *, use_memberships: bool = True) -> Sql:
    """A WITH clause whose last CTE, ``audience (id)``, holds the audience's contact ids (queries continue it)."""
    plan = _plan(db, settings, now, (), use_memberships)
    keep = _cat(*(r.wrap(" AND NOT {}") for r in plan.rules))
    return _cat(plan.ctes, Sql(", audience AS (SELECT c.id AS id "), plan.source, Sql(" WHERE 1 = 1"), keep, Sql(")"))


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
    bounds: Sequence[tuple[str, str]],
    *,
    use_memberships: bool,
    match: Sql,
    limit: int | None,
) -> list[dict[str, object]]:
    plan = _plan(db, settings, now, bounds, use_memberships)
    keep = _cat(*(r.wrap(" AND NOT {}") for r in plan.rules))
    tail = Sql(" ORDER BY c.id LIMIT ?", (limit,)) if limit is not None else Sql(" ORDER BY c.id")
    query = _cat(
        plan.ctes, Sql(" SELECT c.id, c.email, c.timezone, c.locale "), plan.source, Sql(" WHERE 1 = 1"),
        keep, match, tail,
    )  # fmt: skip
    return db.query(query.text, query.params)


def _plan(
    db: Database, settings: CampaignSettings, now: datetime, bounds: Sequence[tuple[str, str]], use_memberships: bool
) -> _Plan:
    current = use_memberships and _memberships_current(db)
    included = _union(db, settings.include_segments, now, bounds, current)
    excluded = _union(db, settings.exclude_segments, now, bounds, current)
    caps, capped = _capped(db, now)
    ctes = _cat(Sql("WITH included AS ("), included, Sql("), excluded AS ("), excluded, Sql(")"), caps,
                Sql(", capped AS ("), capped, Sql(")"))  # fmt: skip
    choice, category_rule = _category(db, settings.category)
    source = _cat(
        Sql(f"FROM {CONTACTS} c JOIN included i ON i.id = c.id LEFT JOIN {PREFERENCES} p ON p.contact_id = c.id "),
        choice,
    )
    rules = [
        Sql("c.id IN (SELECT id FROM excluded)"),
        Sql(f"EXISTS (SELECT 1 FROM {SUPPRESSIONS} s WHERE s.contact_id = c.id)"),
        Sql("COALESCE(p.opted_out, 0) = 1"),
        category_rule,
        Sql("COALESCE(p.paused_until, '') > ?", (stamp(now),)),
        Sql("c.id IN (SELECT contact_id FROM capped)") if capped.text != _NONE else FALSE,
    ]
    return _Plan(ctes, source, rules)


def _category(db: Database, category: str | None) -> tuple[Sql, Sql]:
    """The join to the contact's choice for the category and the rule that it is (or defaults to) off."""
    if category is None:
        return Sql(""), FALSE
    rows = db.query(f"SELECT default_subscribed FROM {CATEGORIES} WHERE key = ?", (category,))
    if not rows:
        raise UnknownCategory(f"no preference category {category!r}", key=category, field="category")
    join = Sql(f"LEFT JOIN {CHOICES} ch ON ch.contact_id = c.id AND ch.category = ?", (category,))
    return join, Sql("COALESCE(ch.subscribed, ?) = 0", (int(rows[0]["default_subscribed"]),))


def _union(
    db: Database, segment_ids: Sequence[UUID], now: datetime, bounds: Sequence[tuple[str, str]], current: bool
) -> Sql:
    selects = [_segment(db, segment_id, now, bounds, current) for segment_id in segment_ids]
    return _cat(*_between(selects, Sql(" UNION "))) if selects else Sql(_NONE)


def _segment(db: Database, segment_id: UUID, now: datetime, bounds: Sequence[tuple[str, str]], current: bool) -> Sql:
    row = get_segment(db, segment_id)
    if row is None:
        return Sql(_NONE)  # not in the catalogue (yet): no members, as a segment reference to nothing
    moves_with_clock = any(k in json.dumps(row.definition) for k in ('"within_days"', '"segment"'))
    if current and not row.archived and not moves_with_clock and _evaluated(db, str(segment_id)):
        where = _bounded("contact_id", bounds)
        return Sql(f"SELECT contact_id AS id FROM {MEMBERSHIPS} WHERE segment_id = ?{where.text}",
                   (str(segment_id), *where.params))  # fmt: skip
    predicate = parse(row.definition, lambda sid: _definition(db, sid), str(segment_id)).where(db.dialect, now)
    where = _bounded("c.id", bounds)
    return Sql(f"SELECT c.id AS id FROM {CONTACTS} c WHERE {predicate.text}{where.text}",
               (*predicate.params, *where.params))  # fmt: skip


def _capped(db: Database, now: datetime) -> tuple[Sql, Sql]:
    """The CTEs of each distinct frequency setting's window and cap, and of the included contacts at their cap."""
    texts = db.query(f"SELECT DISTINCT frequency FROM {PREFERENCES} WHERE frequency IS NOT NULL ORDER BY frequency")
    if not texts:
        return Sql(""), Sql(_NONE)
    caps: list[object] = []
    for row in texts:
        frequency = json.loads(row["frequency"])
        per = frequency.get("per") or DIGEST_PERIODS[frequency["digest"]]
        caps += [row["frequency"], stamp(now - WINDOWS[per]), int(frequency.get("max", 1))]
    values = ", ".join("(?, ?, CAST(? AS BIGINT))" for _ in texts)
    types = ", ".join("?" for _ in SENT_TYPES)
    # The count is eligibility.sent_within's: distinct (campaign, UTC day) pairs of sent-type events.
    capped = Sql(
        f"SELECT a.contact_id AS contact_id FROM {ACTIVITY} a JOIN {PREFERENCES} p ON p.contact_id = a.contact_id "
        "JOIN caps f ON f.frequency = p.frequency "
        f"WHERE a.contact_id IN (SELECT id FROM included) AND a.type IN ({types}) AND a.occurred_at > f.since "
        "AND a.occurred_at <= ? GROUP BY a.contact_id, f.cap "
        "HAVING COUNT(DISTINCT COALESCE(a.campaign_id, '') || '|' || substr(a.occurred_at, 1, 10)) >= f.cap",
        (*SENT_TYPES, stamp(now)),
    )
    return Sql(f", caps (frequency, since, cap) AS (VALUES {values})", tuple(caps)), capped


def _memberships_current(db: Database) -> bool:
    """Whether ``segment_memberships`` has applied every event the read models it follows have applied."""
    names = (MEMBERSHIPS, *SegmentMembershipsProjection.after)
    marks = ", ".join("?" for _ in names)
    rows = db.query(f"SELECT name, position FROM {POSITIONS_TABLE} WHERE name IN ({marks})", names)
    positions = {r["name"]: int(r["position"]) for r in rows}
    return len(positions) == len(names) and positions[MEMBERSHIPS] >= max(positions.values())


def _evaluated(db: Database, segment_id: str) -> bool:
    return bool(db.query(f"SELECT 1 AS ok FROM {MEMBER_COUNTS} WHERE segment_id = ?", (segment_id,)))


def _definition(db: Database, segment_id: str) -> object:
    try:
        row = get_segment(db, UUID(segment_id))
    except ValueError:
        return None
    return None if row is None else row.definition


def _bounded(column: str, bounds: Sequence[tuple[str, str]]) -> Sql:
    return Sql("".join(f" AND {column} {op} ?" for op, _ in bounds), tuple(v for _, v in bounds))


def _between(items: list[Sql], separator: Sql) -> list[Sql]:
    return [part for i, item in enumerate(items) for part in ((separator, item) if i else (item,))]


def _cat(*parts: Sql) -> Sql:
    return Sql("".join(p.text for p in parts), tuple(x for p in parts for x in p.params))
