"""The SQL of a campaign's audience: the include and exclude segment sets, and one removal predicate per rule.

Each rule's predicate is about one ``contacts c`` row (with its ``preferences p`` and, for a category, its
``preferences_choices ch``) and is TRUE or FALSE, never NULL, so ``NOT rule`` keeps exactly who the rule
keeps. Segments are read from ``segment_memberships`` when that table is current (it has caught up with
every read model it follows, the segment was evaluated, and its definition does not move with the clock);
otherwise their definitions are compiled at ``now``. Both give the same members.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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
# The rules in the order they are applied; ``build_plan`` gives one predicate per rule in this order.
RULES = ("excluded_segments", R.SUPPRESSED.value, R.OPTED_OUT.value, R.UNSUBSCRIBED_FROM_CATEGORY.value,
         R.PAUSED.value, R.FREQUENCY_CAP.value)  # fmt: skip
_NONE = f"SELECT id FROM {CONTACTS} WHERE 1 = 0"
# A keyset bound on contact ids: (operator, id text), e.g. (">", cursor).
Bound = tuple[str, str]


@dataclass(frozen=True)
class Plan:
    """The CTEs (``included``, ``excluded``, ``capped``), the FROM clause and the rules' removal predicates."""

    ctes: Sql
    source: Sql
    rules: list[Sql]


def build_plan(
    db: Database, settings: CampaignSettings, now: datetime, bounds: Sequence[Bound], use_memberships: bool
) -> Plan:
    """The audience's SQL at ``now``, restricted to contact ids within ``bounds``."""
    current = use_memberships and _memberships_current(db)
    included = _union(db, settings.include_segments, now, bounds, current)
    excluded = _union(db, settings.exclude_segments, now, bounds, current)
    caps, capped = _capped(db, now)
    ctes = cat(Sql("WITH included AS ("), included, Sql("), excluded AS ("), excluded, Sql(")"), caps,
               Sql(", capped AS ("), capped, Sql(")"))  # fmt: skip
    choice, category_rule = _category(db, settings.category)
    source = cat(
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
    return Plan(ctes, source, rules)


def _category(db: Database, category: str | None) -> tuple[Sql, Sql]:
    """The join to the contact's choice for the category and the rule that it is (or defaults to) off."""
    if category is None:
        return Sql(""), FALSE
    rows = db.query(f"SELECT default_subscribed FROM {CATEGORIES} WHERE key = ?", (category,))
    if not rows:
        raise UnknownCategory(f"no preference category {category!r}", key=category, field="category")
    join = Sql(f"LEFT JOIN {CHOICES} ch ON ch.contact_id = c.id AND ch.category = ?", (category,))
    return join, Sql("COALESCE(ch.subscribed, ?) = 0", (int(rows[0]["default_subscribed"]),))


def _union(db: Database, segment_ids: Sequence[UUID], now: datetime, bounds: Sequence[Bound], current: bool) -> Sql:
    selects = [_segment(db, segment_id, now, bounds, current) for segment_id in segment_ids]
    return cat(*_between(selects, Sql(" UNION "))) if selects else Sql(_NONE)


def _segment(db: Database, segment_id: UUID, now: datetime, bounds: Sequence[Bound], current: bool) -> Sql:
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


def _bounded(column: str, bounds: Sequence[Bound]) -> Sql:
    return Sql("".join(f" AND {column} {op} ?" for op, _ in bounds), tuple(v for _, v in bounds))


def _between(items: list[Sql], separator: Sql) -> list[Sql]:
    return [part for i, item in enumerate(items) for part in ((separator, item) if i else (item,))]


def cat(*parts: Sql) -> Sql:
    """Fragments one after another."""
    return Sql("".join(p.text for p in parts), tuple(x for p in parts for x in p.params))
