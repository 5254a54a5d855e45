"""The projection runner's state: where each projection stands, one pass over the log, a lost race, and the
order projections run in (each after those it reads)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from projections.projection import Projection

# (position read from, head read up to, topics) -> (position reached, decoded events)
SharedReads = dict[tuple[int, int, tuple[str, ...]], tuple[int, list[Any]]]


@dataclass
class Pass:
    """One ``catch_up_all``: the head it goes up to, every projection's position as it moves, and the
    batches that projections following the same topics share.

    Only a batch that reaches the head is shared (the steady state of a busy service); a long catch-up
    would hold every batch of it in memory until the last follower read it.
    """

    head: int
    positions: dict[str, int]
    shared: SharedReads = field(default_factory=dict)


class PositionMoved(Exception):
    """Another runner advanced this projection first; this batch was rolled back."""


@dataclass(frozen=True)
class ProjectionStatus:
    """Where a projection stands relative to the head of the log."""

    name: str
    version: int
    position: int
    head: int
    updated_at: str | None

    @property
    def lag(self) -> int:
        """Notification ids between the position and the head (PostgreSQL ids may have gaps)."""
        return max(0, self.head - self.position)


def dependencies_first(projections: Sequence[Projection]) -> list[Projection]:
    """The projections ordered so that each comes after those it reads; a cycle or an unknown name is an error."""
    by_name = {p.name: p for p in projections}
    ordered: list[Projection] = []
    visiting: set[str] = set()

    def visit(p: Projection) -> None:
        if p in ordered:
            return
        if p.name in visiting:
            raise ValueError(f"projection dependencies form a cycle at {p.name!r}")
        visiting.add(p.name)
        for name in p.after:
            if name not in by_name:
                raise ValueError(f"projection {p.name!r} reads {name!r}, which is not registered")
            visit(by_name[name])
        visiting.discard(p.name)
        ordered.append(p)

    for p in projections:
        visit(p)
    return ordered
