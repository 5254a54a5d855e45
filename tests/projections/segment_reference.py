"""A plain-Python evaluator of segment definitions over a ``World``: the oracle the SQL engine must match.

Written from docs/segments.md, independently of the engine's code: it walks the JSON definition itself.
Definitions given to it are assumed valid (the engine's parser is tested separately).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tests.projections.segment_world import Contact, World, instant

Resolver = Callable[[str], Any]
BUILT_IN = ("email", "email_domain", "timezone", "locale", "created_at")


def members(world: World, definition: Any, now: datetime, resolver: Resolver | None = None) -> set[str]:
    """Ids of the contacts the definition selects at ``now``."""
    return {c.id for c in world.contacts if Evaluation(world, now, resolver).holds(definition, c)}


class Evaluation:
    """One definition evaluated contact by contact."""

    def __init__(self, world: World, now: datetime, resolver: Resolver | None) -> None:
        self.world, self.now, self.resolver = world, now, resolver

    def holds(self, node: dict[str, Any], c: Contact) -> bool:
        if "and" in node:
            return all(self.holds(n, c) for n in node["and"])
        if "or" in node:
            return any(self.holds(n, c) for n in node["or"])
        if "not" in node:
            return not self.holds(node["not"], c)
        if "segment" in node:
            assert self.resolver is not None
            return self.holds(self.resolver(node["segment"]), c)
        if "tag" in node:
            return self.tagged(node["tag"], node.get("exact", False), c)
        if "event" in node:
            return self.behaved(node, c)
        if "subscribed" in node:
            key = node["subscribed"]
            wanted = self.world.choices.get((c.id, key), self.world.categories.get(key, False))
            return c.id not in self.world.opted_out and wanted
        if "opted_out" in node:
            return (c.id in self.world.opted_out) is node["opted_out"]
        if "suppressed" in node:
            return (c.id in self.world.suppressed) is node["suppressed"]
        return attribute_holds(node, c)

    def tagged(self, path: str, exact: bool, c: Contact) -> bool:
        paths = {self.world.tags[t] for cid, t in self.world.assignments if cid == c.id}
        return any(p == path or (not exact and p.startswith(path + "/")) for p in paths)

    def behaved(self, node: dict[str, Any], c: Contact) -> bool:
        def counted(moment: datetime) -> bool:
            if node.get("within_days") is not None and moment < self.now - timedelta(days=node["within_days"]):
                return False
            if node.get("since") is not None and moment < _instant(node["since"]):
                return False
            return node.get("until") is None or moment < _instant(node["until"])

        n = sum(
            1
            for a in self.world.activity
            if a.contact_id == c.id
            and a.type == node["event"]
            and (node.get("campaign") is None or a.campaign_id == node["campaign"])
            and counted(a.occurred_at)
        )
        low = 1 if node.get("min_count") is None else node["min_count"]
        return low <= n and (node.get("max_count") is None or n <= node["max_count"])


def _instant(text: str) -> datetime:
    moment = instant(text)
    assert moment is not None
    return moment


def value_type(value: Any) -> str:
    """The type a definition value compares in: number, boolean, datetime or string."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "datetime" if instant(value) is not None else "string"


def list_type(values: list[Any]) -> str:
    types = {value_type(v) for v in values}
    if types <= {"datetime", "string"}:
        return "datetime" if types == {"datetime"} else "string"
    (only,) = types
    return only


def stored_as(value: Any, wanted: str) -> Any:
    """A stored value in the wanted type, or None when it has no value of that type (no match then)."""
    if value is None:
        return None
    if wanted == "boolean":
        return value if isinstance(value, bool) else None
    if wanted == "number":
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if not isinstance(value, str):
        return None
    return instant(value) if wanted == "datetime" else value


def attribute_holds(node: dict[str, Any], c: Contact) -> bool:
    name, op = node["attribute"], node["op"]
    if name in BUILT_IN:
        stored: Any = {
            "email": c.email, "email_domain": c.email.rpartition("@")[2], "timezone": c.timezone,
            "locale": c.locale, "created_at": c.created_at,
        }[name]  # fmt: skip
    else:
        stored = c.attributes.get(name)
    if op == "exists":
        return stored is not None
    if op == "not_exists":
        return stored is None
    value = node["value"]
    items = value if isinstance(value, list) else [value]
    if op in ("contains", "starts_with"):
        wanted = "string"
    elif isinstance(value, list):
        wanted = list_type(items)
    else:
        wanted = value_type(value)
    if name in ("email", "email_domain"):
        items = [v.lower() for v in items]
    if name in BUILT_IN and name != "created_at":
        wanted = "string"  # built-in text fields compare every value as text
    if name == "created_at":
        have, items = stored, [_instant(v) for v in items]
    else:
        have = stored_as(stored, wanted)
        items = [stored_as(v, wanted) for v in items]
    if have is None:
        return False
    return _compare(op, have, items)


def _compare(op: str, have: Any, items: list[Any]) -> bool:
    first = items[0]
    return {
        "eq": lambda: have == first,
        "neq": lambda: have != first,
        "lt": lambda: have < first,
        "lte": lambda: have <= first,
        "gt": lambda: have > first,
        "gte": lambda: have >= first,
        "between": lambda: items[0] <= have <= items[1],
        "in": lambda: have in items,
        "not_in": lambda: have not in items,
        "contains": lambda: first in have,
        "starts_with": lambda: have.startswith(first),
    }[op]()
