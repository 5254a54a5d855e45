"""Dependency providers: handlers receive the container's parts, never globals."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from application.history import AuditHistory
from application.keys import ApiKeys
from interfaces.bootstrap import Container


def provide_container(state: State) -> Container:
    """The process's composition root."""
    container: Container = state.container
    return container


def provide_keys(state: State) -> ApiKeys:
    """The API key application."""
    return provide_container(state).keys


def provide_history(state: State) -> AuditHistory:
    """The audit history application."""
    return provide_container(state).history


DEPENDENCIES = {
    "container": Provide(provide_container, sync_to_thread=False),
    "keys": Provide(provide_keys, sync_to_thread=False),
    "history": Provide(provide_history, sync_to_thread=False),
}
