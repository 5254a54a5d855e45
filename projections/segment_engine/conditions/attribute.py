"""``{"attribute": NAME, "op": OP, "value": V}``: a built-in field or a custom attribute compared with a value.

A comparison is made in the type of its value (ADR 0003 §5): numbers as numbers, booleans as booleans,
ISO 8601 dates and date-times with offset as instants, other strings as text (case-sensitive, code
point order). An attribute that is missing, or whose stored value is not of that type, matches no
comparison: ``neq`` and ``not_in`` included, as in SQL. ``{"not": ...}`` is the complement, so
``{"not": {"attribute": "plan", "op": "eq", "value": "gold"}}`` also holds when there is no plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.contact_fields import InvalidAttributeName, clean_attribute_name
from projections.segment_engine.sql import CONTACT, TRUE, Sql, Target, contact_in
from projections.segment_engine.syntax import Node, Parser, child, fail, only_keys
from projections.segment_engine.values import Kind, clean_text, kind_of, sql_value

KEY = "attribute"
# Built-in fields win over custom attributes of the same name. The text ones are compared as text.
BUILT_IN_TEXT = ("email", "email_domain", "timezone", "locale")
BUILT_IN = (*BUILT_IN_TEXT, "created_at")
LOWER_CASED = ("email", "email_domain")  # stored normalized, so compared lower-cased
NULLABLE = ("timezone", "locale")
ORDERED = ("lt", "lte", "gt", "gte")
SYMBOLS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
OPS = (*SYMBOLS, "between", "in", "not_in", "contains", "starts_with", "exists", "not_exists")
MAX_LIST = 1000
# Where each kind of custom value is stored in contacts_attributes, and what rows hold one.
CUSTOM_COLUMN = {
    "number": ("a.num_value", "a.kind = 'number' AND "),
    "boolean": ("a.num_value", "a.kind = 'boolean' AND "),
    "datetime": ("a.time_value", ""),
    "string": ("a.text_value", ""),
}


@dataclass(frozen=True)
class Attribute:
    """A typed comparison on one field."""

    name: str
    op: str
    kind: Kind | None  # None for exists / not_exists
    params: tuple[Any, ...]

    def sql(self, target: Target) -> Sql:
        if self.op in ("exists", "not_exists"):
            present = self._present(target)
            return present if self.op == "exists" else present.wrap("(NOT {})")
        if self.name in BUILT_IN:
            column = f"{CONTACT}.{self.name}"
            test = _test(target, column, self.op, self.kind, self.params)
            return test.wrap(f"({column} IS NOT NULL AND {{}})")
        column, guard = CUSTOM_COLUMN[self.kind or "string"]
        test = _test(target, column, self.op, self.kind, self.params)
        where = Sql(f"a.name = ? AND {guard}{test.text}", (self.name, *test.params))
        return contact_in(target, "contacts_attributes a", "a.contact_id", where)

    def _present(self, target: Target) -> Sql:
        if self.name in NULLABLE:
            return Sql(f"({CONTACT}.{self.name} IS NOT NULL)")
        if self.name in BUILT_IN:
            return TRUE
        return contact_in(target, "contacts_attributes a", "a.contact_id", Sql("a.name = ?", (self.name,)))


def _test(target: Target, column: str, op: str, kind: Kind | None, params: tuple[Any, ...]) -> Sql:
    # Text ranges in byte (code point) order on PostgreSQL whatever the database collation, as SQLite does.
    ranged = f'{column} COLLATE "C"' if kind == "string" and target.dialect == "postgres" else column
    if op in SYMBOLS:
        return Sql(f"{ranged if op in ORDERED else column} {SYMBOLS[op]} ?", params)
    if op == "between":
        return Sql(f"{ranged} >= ? AND {ranged} <= ?", params)
    if op in ("in", "not_in"):
        marks = ", ".join("?" for _ in params)
        return Sql(f"{column} {'IN' if op == 'in' else 'NOT IN'} ({marks})", params)
    (text,) = params
    if op == "contains":
        function = "strpos" if target.dialect == "postgres" else "instr"
        return Sql(f"{function}({column}, ?) > 0", (text,))
    assert op == "starts_with"
    return Sql(f"substr({column}, 1, ?) = ?", (len(text), text))


def parse(node: dict[str, Any], path: str, parser: Parser) -> Node:
    """An attribute condition."""
    only_keys(node, path, (KEY, "op", "value"))
    name, op = node[KEY], node.get("op")
    if name not in BUILT_IN and not _custom_name(name):
        raise fail(child(path, KEY), f"a built-in field ({', '.join(BUILT_IN)}) or a custom attribute name")
    if op not in OPS:
        raise fail(child(path, "op"), f"an operator: one of {', '.join(OPS)}")
    if op in ("exists", "not_exists"):
        if "value" in node:
            raise fail(child(path, "value"), f"no value: {op} takes none")
        return Attribute(name, op, None, ())
    if "value" not in node:
        raise fail(path, f"a value for {op}", f"{path}: expected a value for {op}")
    kind, values = _typed(op, node["value"], child(path, "value"))
    kind = _for_field(name, op, kind, child(path, "value"))
    if name in LOWER_CASED:
        values = [v.lower() for v in values]
    params = [sql_value(v, kind) for v in values]
    if op == "between" and params[0] > params[1]:
        raise fail(child(path, "value"), "[low, high] with low <= high")
    return Attribute(name, op, kind, tuple(params))


def _custom_name(name: Any) -> bool:
    try:
        clean_attribute_name(name)
    except InvalidAttributeName:
        return False
    return True


def _typed(op: str, value: Any, path: str) -> tuple[Kind, list[Any]]:
    """The kind a value compares in, and its items (one, or the list's)."""
    if op in ("contains", "starts_with"):
        if not clean_text(value):
            raise fail(path, "a string")
        return "string", [value]
    if op in ("between", "in", "not_in"):
        low, high = (2, 2) if op == "between" else (1, MAX_LIST)
        what = "[low, high]: two numbers, two dates or two strings" if op == "between" else (
            f"a list of 1 to {MAX_LIST} values of one type (numbers, booleans, dates or strings)")  # fmt: skip
        if not isinstance(value, list) or not low <= len(value) <= high:
            raise fail(path, what)
        kind = _common_kind(value)
        if kind is None or (op == "between" and kind == "boolean"):
            raise fail(path, what)
        return kind, value
    kind = kind_of(value)
    if kind is None or (kind == "string" and not clean_text(value)):
        raise fail(path, "a number, a boolean, a date or a string")
    if kind == "boolean" and op in ORDERED:
        raise fail(path, f"a number, a date or a string: {op} does not order booleans")
    return kind, [value]


def _common_kind(values: list[Any]) -> Kind | None:
    """One kind for a list; strings are dates only when all of them are."""
    kinds = {kind_of(v) for v in values}
    if None in kinds or any(isinstance(v, str) and not clean_text(v) for v in values):
        return None
    if kinds <= {"string", "datetime"}:
        return "datetime" if kinds == {"datetime"} else "string"
    return kinds.pop() if len(kinds) == 1 else None


def _for_field(name: str, op: str, kind: Kind, path: str) -> Kind:
    """Built-in fields have one type: text fields compare any string as text; created_at wants dates."""
    if name == "created_at":
        if kind != "datetime" or op in ("contains", "starts_with"):
            raise fail(path, "a date or date-time with offset: created_at is an instant")
        return kind
    if name in BUILT_IN_TEXT:
        if kind not in ("string", "datetime"):
            raise fail(path, f"a string: {name} is text")
        return "string"
    return kind
