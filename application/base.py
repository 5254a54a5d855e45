"""The base of every Tidings application: shared store, explicit environment, typed mapper."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, IntegrityError
from eventsourcing.utils import Environment

from application.bulk_read import select_events
from application.store import STORE_NAME, EventStoreResources
from domain.errors import Conflict, NotFound

A = TypeVar("A")


class TidingsApplication(Application[UUID]):
    """An application bound to the shared event store."""

    name = STORE_NAME

    def __init__(self, store: EventStoreResources) -> None:
        self._store = store
        super().__init__(env=store.env)

    def construct_env(self, name: str, env: Any = None) -> Environment:
        # Configuration is read once by interfaces.config; never merge os.environ here.
        return Environment(name, dict(env or {}))

    def construct_factory(self, env: Environment) -> InfrastructureFactory:
        return self._store.factory

    def construct_recorder(self) -> ApplicationRecorder:
        return self._store.recorder

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save atomically; a version clash becomes our ``Conflict``."""
        try:
            recordings = super().save(*objs, **kwargs)
        except IntegrityError:
            raise Conflict("another change was saved first; reload and retry") from None
        if recordings:
            self._store.saved(recordings[-1].notification.id)
        return recordings

    def load(self, aggregate_id: UUID, kind: type, version: int | None = None) -> Any:
        """The aggregate of type ``kind`` with this id, or ``NotFound``."""
        try:
            aggregate: Any = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise NotFound(f"{kind.__name__} {aggregate_id} not found") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"{kind.__name__} {aggregate_id} not found")
        return aggregate

    def load_many_of(self, aggregate_ids: Sequence[UUID], kind: type[A]) -> dict[UUID, A]:
        """The existing aggregates of type ``kind`` among ``aggregate_ids``, read in one query (absent ids left out)."""
        rebuilt: dict[UUID, Any] = {}
        for stored in select_events(self.recorder, aggregate_ids):
            event: Any = self.mapper.to_domain_event(stored)
            rebuilt[event.originator_id] = event.mutate(rebuilt.get(event.originator_id))
        return {i: a for i, a in rebuilt.items() if isinstance(a, kind)}

    def close(self) -> None:
        # The shared store is closed by its owner, once.
        self.closing.set()
