"""Read models follow a long command while it runs (a process of their own on PostgreSQL, a thread on SQLite)."""

from __future__ import annotations

import time

import pytest

from application.contacts import ContactInput
from interfaces.bootstrap import Container
from interfaces.cli.follower import _wait, projections_following
from projections.contacts import count_contacts, find_by_email

pytestmark = pytest.mark.slow


def test_contacts_written_inside_the_block_become_queryable_before_it_ends(container: Container) -> None:
    with projections_following(container):
        container.contacts.upsert(ContactInput("ann@example.com", {"plan": "pro"}))
        deadline = time.monotonic() + 30
        # Nothing in this process applies them: only the follower can.
        while find_by_email(container.db, "ann@example.com") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert find_by_email(container.db, "ann@example.com") is not None
        container.contacts.upsert(ContactInput("bob@example.com"))
    # On exit every write of the block has been applied.
    assert count_contacts(container.db) == 2


def test_a_block_that_fails_still_leaves_the_read_models_current(container: Container) -> None:
    with pytest.raises(RuntimeError), projections_following(container):
        container.contacts.upsert(ContactInput("ann@example.com"))
        raise RuntimeError("the import stopped")
    assert count_contacts(container.db) == 1


def test_waiting_on_a_dead_follower_gives_up_at_once(container: Container) -> None:
    container.contacts.upsert(ContactInput("ann@example.com"))
    started = time.monotonic()

    _wait(container, alive=lambda: False)  # a follower process that could not start

    assert time.monotonic() - started < 5
    assert max(s.lag for s in container.runner.status()) > 0  # left for the caller's own catch-up
