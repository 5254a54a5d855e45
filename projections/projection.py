"""What a projection is: a named read model with its tables, the events it reads and how it applies them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from projections.db import Database, Tx


class Projection(ABC):
    """A read model: ``apply`` writes rows for a batch of events inside the runner's transaction.

    The runner commits the rows and the new position together, so every event is applied exactly
    once. ``apply`` must be deterministic (a rebuild replays the same events into empty tables)
    and must not cause side effects outside its own tables.
    """

    name: ClassVar[str]
    # Bump when the tables or their meaning change: the runner then rebuilds from zero.
    version: ClassVar[int] = 1
    # Event classes this projection reads; the store filters the rest out in SQL.
    topics: ClassVar[tuple[str, ...]] = ()
    # Names of projections whose tables ``apply`` reads. The runner never lets this projection pass
    # their positions, so what it reads already includes every event it is applying.
    after: ClassVar[tuple[str, ...]] = ()
    # Read models that move with the clock rather than with events get ``tick`` called this often
    # by a running runner (seconds; None: never).
    tick_seconds: ClassVar[float | None] = None

    @abstractmethod
    def create_statements(self, dialect: str) -> Sequence[str]:
        """DDL creating this projection's tables (idempotent: IF NOT EXISTS)."""

    @abstractmethod
    def tables(self) -> Sequence[str]:
        """Names of this projection's tables, all prefixed by ``name``."""

    @abstractmethod
    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        """Write the effect of ``events`` (in log order) into the tables."""

    def tick(self, db: Database) -> None:  # noqa: B027 - optional hook, a no-op unless overridden
        """Bring time-dependent rows up to date; called by the runner every ``tick_seconds``."""

    def topics_now(self, db: Database) -> tuple[str, ...]:
        """The topics the next batch must read, given the read models as they are (``topics`` unless
        overridden). Events of other topics up to the batch's end are skipped, so a narrower answer must
        mean those events change nothing in this projection's tables."""
        return self.topics


class Reactor(Projection):
    """A follower of the log that issues commands (policies) instead of writing read-model rows.

    It shares the projections' machinery: a tracked position, ``after`` to stay behind the read models
    its decisions read, catch-up and rebuild. Delivery is at least once — a batch whose commands were
    saved may be reacted to again after a crash — so ``react`` must issue only idempotent commands
    (aggregates that remember the causes they applied). Re-running a reactor from zero changes nothing.
    """

    def create_statements(self, dialect: str) -> Sequence[str]:
        return []

    def tables(self) -> Sequence[str]:
        return []

    def apply(self, tx: Tx, events: Sequence[Any]) -> None:
        raise TypeError("a reactor reacts outside the runner's transaction; the runner calls react()")

    @abstractmethod
    def react(self, events: Sequence[Any]) -> None:
        """Issue the commands ``events`` call for (idempotently)."""
