"""``{"subscribed": "news"}``: the contact wants mail of this preference category.

The contact's explicit choice, else the category's default; false when the contact opted out of all
marketing email. A key that is no category matches nobody, so a saved segment stays valid when a
category goes away. Reads ``preferences``, ``preferences_choices`` and ``preferences_categories``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.preference_category import KEY as CATEGORY_KEY
from domain.preference_category import KEY_RULE
from projections.segment_engine.sql import Sql, Target, contact_in, joined
from projections.segment_engine.syntax import Node, Parser, child, fail, only_keys

KEY = "subscribed"


@dataclass(frozen=True)
class Subscribed:
    """Subscribed to one category, all things considered."""

    category: str

    def sql(self, target: Target) -> Sql:
        opted_out = contact_in(target, "preferences p", "p.contact_id", Sql("p.opted_out = 1"))
        said_yes = self._choice(target, "ch.category = ? AND ch.subscribed = 1")
        chose = self._choice(target, "ch.category = ?")
        # Uncorrelated, so both backends evaluate it once: TRUE or FALSE, never NULL.
        default_on = Sql(
            "EXISTS (SELECT 1 FROM preferences_categories pc WHERE pc.key = ? AND pc.default_subscribed = 1)",
            (self.category,),
        )
        by_default = joined("AND", [default_on, chose.wrap("(NOT {})")])
        return joined("AND", [opted_out.wrap("(NOT {})"), joined("OR", [said_yes, by_default])])

    def _choice(self, target: Target, where: str) -> Sql:
        return contact_in(target, "preferences_choices ch", "ch.contact_id", Sql(where, (self.category,)))


def parse(node: dict[str, Any], path: str, parser: Parser) -> Node:
    """A subscribed condition."""
    only_keys(node, path, (KEY,))
    value = node[KEY]
    if not isinstance(value, str) or not CATEGORY_KEY.fullmatch(value):
        raise fail(child(path, KEY), KEY_RULE)
    return Subscribed(value)
