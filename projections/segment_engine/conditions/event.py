"""``{"event": "opened", "campaign": ID, "within_days": N, "since": T, "until": T, "min_count": K, "max_count": K}``.

Counts the contact's normalized email events of that type (in ``contact_activity``) that fall in every
given window: ``within_days`` means at or after ``now - N days``; ``since`` is inclusive, ``until``
exclusive. The contact matches when the count lies in ``[min_count, max_count]`` (``min_count``
defaults to 1, ``max_count`` to unbounded), so ``{"event": "bounced", "min_count": 0, "max_count": 0}``
holds for contacts with no bounce at all.

"At least one event of a type at or after an instant" (no campaign, no ``until``) is the same as "the
latest event of that type is at or after it", so that test reads one row of ``contact_event_summary``
instead of probing the contact's events; counts above one and campaign or ``until`` windows count rows
of ``contact_activity``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from domain.email_event import EmailEventType
from projections.contact_event_summary import TABLE as SUMMARY
from projections.email_events import stamp
from projections.segment_engine.sql import CONTACT, TRUE, Sql, Target, contact_in, joined
from projections.segment_engine.syntax import Node, Parser, child, fail, only_keys
from projections.segment_engine.values import clean_text, parse_instant

KEY = "event"
MEMBERS = (KEY, "campaign", "within_days", "since", "until", "min_count", "max_count")
TYPES = tuple(t.value for t in EmailEventType)
MAX_DAYS = 36_500
MAX_COUNT = 1_000_000
SOURCE = "contact_activity e"
LATEST = f"{SUMMARY} s"


@dataclass(frozen=True)
class Event:
    """A count of matching events within bounds."""

    type: str
    campaign: str | None
    within_days: int | None
    since: str | None
    until: str | None
    min_count: int
    max_count: int | None

    def sql(self, target: Target) -> Sql:
        at_least_min = self._at_least(target, self.min_count)
        if self.max_count is None:
            return at_least_min
        return joined("AND", [at_least_min, self._at_least(target, self.max_count + 1).wrap("NOT {}")])

    def _where(self, target: Target) -> Sql:
        clauses: list[Sql] = [Sql("e.type = ?", (self.type,))]
        if self.campaign is not None:
            clauses.append(Sql("e.campaign_id = ?", (self.campaign,)))
        if self.within_days is not None:
            clauses.append(Sql("e.occurred_at >= ?", (stamp(target.now - timedelta(days=self.within_days)),)))
        if self.since is not None:
            clauses.append(Sql("e.occurred_at >= ?", (self.since,)))
        if self.until is not None:
            clauses.append(Sql("e.occurred_at < ?", (self.until,)))
        return joined("AND", clauses)

    def _latest_at_or_after(self, target: Target) -> Sql:
        """At least one event of the type at or after the windows' lower bound, from the latest one."""
        bounds = [self.since] if self.since is not None else []
        if self.within_days is not None:
            bounds.append(stamp(target.now - timedelta(days=self.within_days)))
        clauses = [Sql("s.type = ?", (self.type,))]
        if bounds:
            clauses.append(Sql("s.last_at >= ?", (max(bounds),)))  # stamps: string order is time order
        return contact_in(target, LATEST, "s.contact_id", joined("AND", clauses))

    def _at_least(self, target: Target, count: int) -> Sql:
        if count <= 0:
            return TRUE
        if count == 1 and self.campaign is None and self.until is None:
            return self._latest_at_or_after(target)
        where = self._where(target)
        if count == 1:
            return contact_in(target, SOURCE, "e.contact_id", where)
        if target.dialect == "postgres":
            text = f"(SELECT COUNT(*) FROM {SOURCE} WHERE e.contact_id = {CONTACT}.id AND {where.text}) >= ?"
            return Sql(f"({text})", (*where.params, count))
        text = f"SELECT e.contact_id FROM {SOURCE} WHERE {where.text} GROUP BY e.contact_id HAVING COUNT(*) >= ?"
        return Sql(f"{CONTACT}.id IN ({text})", (*where.params, count))


def parse(node: dict[str, Any], path: str, parser: Parser) -> Node:
    """An event condition."""
    only_keys(node, path, MEMBERS)
    kind = node[KEY]
    if kind not in TYPES:
        raise fail(child(path, KEY), f"an email event type: one of {', '.join(TYPES)}")
    campaign = node.get("campaign")
    if campaign is not None and not (clean_text(campaign) and campaign):
        raise fail(child(path, "campaign"), "a campaign id (a non-empty string)")
    min_count = _count(node, "min_count", path, 1)
    max_count = _count(node, "max_count", path, None)
    if max_count is not None and max_count < min_count:
        raise fail(child(path, "max_count"), f"a count at least min_count ({min_count})")
    since, until = _instant(node, "since", path), _instant(node, "until", path)
    return Event(kind, campaign, _days(node, path), since, until, min_count, max_count)


def _days(node: dict[str, Any], path: str) -> int | None:
    days = node.get("within_days")
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise fail(child(path, "within_days"), f"a whole number of days from 1 to {MAX_DAYS}")
    return days


def _instant(node: dict[str, Any], key: str, path: str) -> str | None:
    value = node.get(key)
    if value is None:
        return None
    moment = parse_instant(value) if isinstance(value, str) else None
    if moment is None:
        raise fail(child(path, key), "an ISO 8601 date (2026-01-31) or date-time with offset (2026-01-31T09:00:00Z)")
    return stamp(moment)


def _count(node: dict[str, Any], key: str, path: str, default: int | None) -> Any:
    value = node.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise fail(child(path, key), f"a whole number from 0 to {MAX_COUNT}")
    return value
