"""The event base every aggregate uses: each event records who caused it, in which request, and why.

The context variables are set only at the edges (HTTP middleware, CLI); a command issued with no
context is recorded as caused by ``system``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import field

from eventsourcing.domain import Aggregate

SYSTEM = "system"

_actor: ContextVar[str] = ContextVar("tidings_actor", default=SYSTEM)
_request_id: ContextVar[str | None] = ContextVar("tidings_request_id", default=None)
_reason: ContextVar[str | None] = ContextVar("tidings_reason", default=None)


def api_key_actor(key_id: object) -> str:
    """Actor string for a command issued with an API key."""
    return f"api_key:{key_id}"


def esp_actor(connection_id: object) -> str:
    """Actor string for an event posted by an ESP connection."""
    return f"esp:{connection_id}"


def contact_actor(contact_id: object) -> str:
    """Actor string for a contact acting through a signed link."""
    return f"contact:{contact_id}"


def cli_actor(user: str) -> str:
    """Actor string for an operator at the command line."""
    return f"cli:{user}"


@contextmanager
def caused_by(actor: str, request_id: str | None = None, reason: str | None = None) -> Iterator[None]:
    """Attribute every event created inside the block to this actor, request and reason."""
    tokens = (_actor.set(actor), _request_id.set(request_id), _reason.set(reason))
    try:
        yield
    finally:
        _reason.reset(tokens[2])
        _request_id.reset(tokens[1])
        _actor.reset(tokens[0])


@contextmanager
def because(reason: str | None) -> Iterator[None]:
    """Record ``reason`` on the events created inside the block, keeping actor and request id."""
    token = _reason.set(reason)
    try:
        yield
    finally:
        _reason.reset(token)


def current_actor() -> str:
    """The actor commands in this context are attributed to."""
    return _actor.get()


class TidingsAggregate(Aggregate):
    """Base aggregate whose events all carry actor, request id and reason."""

    class Event(Aggregate.Event):
        actor: str = field(default_factory=_actor.get, init=False)
        request_id: str | None = field(default_factory=_request_id.get, init=False)
        reason: str | None = field(default_factory=_reason.get, init=False)

    class Created(Event, Aggregate.Created):
        pass
