"""Audit history: every recorded event, who and why, secrets hidden; and any past state."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from domain.errors import Invalid, NotFound
from domain.events import because, caused_by
from domain.redaction import REDACTED
from interfaces.bootstrap import Container


def issue_rename_revoke(container: Container) -> tuple[UUID, str]:
    """A key with three events from three contexts; its id and token."""
    with caused_by("cli:alice", request_id="req-1", reason="onboarding"):
        issued = container.keys.issue("Deploy bot", "editor")
    key_id = issued.key.id
    with caused_by("api_key:admin", request_id="req-2"):
        container.keys.rename(key_id, "Release bot")
        with because("leaked in CI logs"):
            container.keys.revoke(key_id)
    return key_id, issued.token


def test_entries_list_type_version_actor_reason_and_request(container: Container) -> None:
    key_id, _ = issue_rename_revoke(container)

    entries = container.history.entries(key_id)

    assert [(e.type, e.version, e.actor, e.reason, e.request_id) for e in entries] == [
        ("ApiKey.Issued", 1, "cli:alice", "onboarding", "req-1"),
        ("ApiKey.Renamed", 2, "api_key:admin", None, "req-2"),
        ("ApiKey.Revoked", 3, "api_key:admin", "leaked in CI logs", "req-2"),
    ]
    assert all(e.timestamp.tzinfo is not None for e in entries)


def test_entries_show_the_payload_with_the_token_hash_redacted(container: Container) -> None:
    key_id, token = issue_rename_revoke(container)

    issued, renamed, revoked = container.history.entries(key_id)

    assert issued.payload == {"name": "Deploy bot", "role": "editor", "token_hash": REDACTED, "prefix": token[:10]}
    assert renamed.payload == {"name": "Release bot"}
    assert revoked.payload == {}


def test_entries_of_an_unknown_aggregate_raise_not_found(container: Container) -> None:
    with pytest.raises(NotFound):
        container.history.entries(uuid4())


def test_state_between_rename_and_revoke_is_renamed_and_not_revoked(container: Container) -> None:
    key_id, token = issue_rename_revoke(container)
    _, renamed, revoked = container.history.entries(key_id)
    assert renamed.timestamp < revoked.timestamp

    for at in (renamed.timestamp, revoked.timestamp - timedelta(microseconds=1)):
        past = container.history.state_at(key_id, at)

        assert (past.aggregate_type, past.version, past.as_of) == ("ApiKey", 2, at)
        assert past.state == {
            "name": "Release bot",
            "role": "editor",
            "token_hash": REDACTED,
            "prefix": token[:10],
            "revoked": False,
        }


def test_state_at_accepts_any_time_zone_for_the_same_instant(container: Container) -> None:
    key_id, _ = issue_rename_revoke(container)
    revoked_at = container.history.entries(key_id)[-1].timestamp

    in_utc = container.history.state_at(key_id, revoked_at)
    in_tokyo = container.history.state_at(key_id, revoked_at.astimezone(timezone(timedelta(hours=9))))

    assert (in_utc.version, in_utc.state["revoked"]) == (3, True)
    assert (in_tokyo.version, in_tokyo.state) == (in_utc.version, in_utc.state)


def test_state_before_creation_raises_not_found(container: Container) -> None:
    key_id, _ = issue_rename_revoke(container)
    created = container.history.entries(key_id)[0].timestamp

    with pytest.raises(NotFound) as raised:
        container.history.state_at(key_id, created - timedelta(microseconds=1))

    assert raised.value.details["created_at"] == created.isoformat()


def test_state_at_a_naive_datetime_raises_invalid(container: Container) -> None:
    key_id, _ = issue_rename_revoke(container)

    with pytest.raises(Invalid):
        container.history.state_at(key_id, datetime(2026, 1, 31, 12, 0))


def test_state_of_an_unknown_aggregate_raises_not_found(container: Container) -> None:
    with pytest.raises(NotFound):
        container.history.state_at(uuid4(), datetime.now().astimezone())
