"""SQL fragments the conditions compile to: text with ``?`` placeholders and its parameters, never values inline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from projections.db import Dialect

# Every compiled predicate is about one row of ``contacts`` under this alias.
CONTACT = "c"


@dataclass(frozen=True)
class Sql:
    """A piece of SQL and the parameters of its placeholders, in order."""

    text: str
    params: tuple[Any, ...] = ()

    def wrap(self, template: str) -> Sql:
        """This fragment inside ``template`` (one ``{}``), same parameters."""
        return Sql(template.format(self.text), self.params)


TRUE = Sql("1 = 1")
FALSE = Sql("1 = 0")


def joined(separator: str, parts: Iterable[Sql]) -> Sql:
    """Fragments joined by ``separator`` (``AND``/``OR``), parenthesized as one."""
    items = list(parts)
    text = f" {separator} ".join(p.text for p in items)
    return Sql(f"({text})", tuple(x for p in items for x in p.params))


@dataclass(frozen=True)
class Target:
    """What a compilation is for: the SQL dialect and the instant behaviour windows are measured from."""

    dialect: Dialect
    now: datetime


def contact_in(target: Target, source: str, contact_column: str, where: Sql) -> Sql:
    """Whether the contact has a row in ``source`` matching ``where``: always TRUE or FALSE, never NULL.

    PostgreSQL gets a correlated EXISTS: at the top level the planner turns it into a semi/anti join,
    under OR/NOT it is an index probe per candidate row. SQLite gets an uncorrelated IN, which it
    materializes once into an ephemeral index wherever the predicate sits.
    """
    if target.dialect == "postgres":
        return Sql(
            f"EXISTS (SELECT 1 FROM {source} WHERE {contact_column} = {CONTACT}.id AND {where.text})", where.params
        )
    return Sql(f"{CONTACT}.id IN (SELECT {contact_column} FROM {source} WHERE {where.text})", where.params)
