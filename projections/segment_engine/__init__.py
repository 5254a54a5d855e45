"""The segment definition language (docs/segments.md): parse and validate a JSON definition, compile it to
one parameterized SQL predicate over the read models, and run the segment queries.

Read models it compiles against (ADR 0003 §4): ``contacts``, ``contacts_attributes``, ``tags``,
``tags_contacts`` and ``contact_activity``. Every query takes an explicit ``now``.

Adding a condition type (preferences will add ``subscribed``, ``opted_out``, ``suppressed``): write one
module under ``conditions/`` exposing

- ``KEY``: the definition key it owns (``{"subscribed": ...}``);
- ``parse(node, path, parser) -> Node``: validate the node (a dict holding ``KEY``; refuse unknown
  members with ``syntax.only_keys``; raise ``syntax.fail(child(path, member), expected)`` on bad input;
  parse nested conditions with ``parser.parse(value, child(path, member))``), returning a node object
  whose ``sql(target) -> Sql`` compiles it for ``target.dialect`` (``"sqlite"``/``"postgres"``) and
  ``target.now``;

then add the module to ``conditions.MODULES``. The compiled predicate is about one ``contacts`` row
aliased ``c``; it must be TRUE or FALSE, never NULL (so ``not`` is a true complement), put every value
in ``Sql.params`` (never in the text), and may use ``sql.contact_in`` for "has a matching row in a
read-model table keyed by contact". A new table it reads needs its own projection and indexes.
"""

from __future__ import annotations

from projections.segment_engine.compiler import Definition, parse, validate
from projections.segment_engine.queries import Member, MembersPage, Preview, count, members, members_among, preview

__all__ = [
    "Definition",
    "Member",
    "MembersPage",
    "Preview",
    "count",
    "members",
    "members_among",
    "parse",
    "preview",
    "validate",
]
