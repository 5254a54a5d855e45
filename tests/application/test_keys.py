"""API key use cases on the shared store, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic

from application.keys import ApiKeys
from domain.api_key import ApiKey, Role
from domain.errors import ApiKeyAlreadyRevoked, Conflict, NotFound, UnknownRole
from domain.ids import bootstrap_admin_key_id
from interfaces.bootstrap import Container, build
from interfaces.config import Settings


def stored_payloads(container: Container) -> list[bytes]:
    """Every event payload in the store, as the bytes the mapper encoded (before compression)."""
    notifications = container.store.recorder.select_notifications(start=None, limit=10_000)
    compressor = container.keys.mapper.compressor
    assert compressor is not None, "event state is stored compressed"
    return [compressor.decompress(n.state) for n in notifications]


def issued_events(container: Container) -> int:
    topic = get_topic(ApiKey.Issued)
    return len(container.store.recorder.select_notifications(start=None, limit=10_000, topics=[topic]))


# -- issuing ----------------------------------------------------------------------------------------


def test_issuing_returns_a_token_whose_hash_is_stored_and_whose_value_is_not(container: Container) -> None:
    issued = container.keys.issue("Deploy bot", "editor")

    assert issued.token.startswith("tdg_")
    assert len(issued.token) > 40
    digest = hashlib.sha256(issued.token.encode()).hexdigest()
    key = container.keys.get(issued.key.id)
    assert (key.token_hash, key.prefix, key.name, key.role) == (digest, issued.token[:10], "Deploy bot", "editor")
    [payload] = stored_payloads(container)
    assert digest.encode() in payload
    assert issued.token.encode() not in payload
    assert issued.token[4:].encode() not in payload


def test_every_issue_makes_a_new_key_and_token(container: Container) -> None:
    first = container.keys.issue("one", "editor")
    second = container.keys.issue("one", "editor")

    assert first.key.id != second.key.id
    assert first.token != second.token


def test_issuing_with_an_unknown_role_stores_nothing(container: Container) -> None:
    with pytest.raises(UnknownRole):
        container.keys.issue("Deploy bot", "root")

    assert container.store.head() == 0


# -- the bootstrap admin ----------------------------------------------------------------------------


def test_the_bootstrap_admin_is_issued_once_and_only_once(container: Container, settings: Settings) -> None:
    first = container.keys.issue_bootstrap_admin()

    assert first is not None
    assert (first.key.id, first.key.role) == (bootstrap_admin_key_id(), Role.ADMIN.value)
    assert container.keys.issue_bootstrap_admin() is None
    assert ApiKeys(container.store).issue_bootstrap_admin() is None
    second_process = build(settings)
    try:
        assert second_process.keys.issue_bootstrap_admin() is None
    finally:
        second_process.close()
    assert issued_events(container) == 1


def test_no_bootstrap_admin_once_any_key_exists(container: Container) -> None:
    container.keys.issue("Deploy bot", "editor")

    assert container.keys.issue_bootstrap_admin() is None
    assert issued_events(container) == 1


# -- lookups and lifecycle --------------------------------------------------------------------------


def test_revoking_an_unknown_key_raises_not_found(container: Container) -> None:
    with pytest.raises(NotFound):
        container.keys.revoke(uuid4())


def test_renaming_or_getting_an_unknown_key_raises_not_found(container: Container) -> None:
    with pytest.raises(NotFound):
        container.keys.rename(uuid4(), "x")
    with pytest.raises(NotFound):
        container.keys.get(uuid4())


def test_rename_and_revoke_are_stored(container: Container) -> None:
    key_id = container.keys.issue("Deploy bot", "editor").key.id

    container.keys.rename(key_id, "Release bot")
    container.keys.revoke(key_id)

    key = container.keys.get(key_id)
    assert (key.name, key.revoked, key.version) == ("Release bot", True, 3)


def test_revoking_a_key_twice_raises_and_stores_nothing(container: Container) -> None:
    key_id = container.keys.issue("Deploy bot", "editor").key.id
    container.keys.revoke(key_id)
    head = container.store.head()

    with pytest.raises(ApiKeyAlreadyRevoked):
        container.keys.revoke(key_id)

    assert container.store.head() == head


# -- concurrency --------------------------------------------------------------------------------------


def test_saving_a_stale_key_raises_conflict(container: Container) -> None:
    key_id = container.keys.issue("Deploy bot", "editor").key.id
    mine, theirs = container.keys.get(key_id), ApiKeys(container.store).get(key_id)
    theirs.rename("Their name")
    container.keys.save(theirs)

    mine.revoke()
    with pytest.raises(Conflict):
        container.keys.save(mine)

    key = container.keys.get(key_id)
    assert (key.name, key.revoked) == ("Their name", False)


def test_a_write_from_another_process_makes_the_older_copy_conflict(container: Container, settings: Settings) -> None:
    key_id = container.keys.issue("Deploy bot", "editor").key.id
    mine = container.keys.get(key_id)
    other = build(settings)
    try:
        other.keys.revoke(key_id)
    finally:
        other.close()

    mine.rename("Too late")
    with pytest.raises(Conflict):
        container.keys.save(mine)


def test_issuing_the_same_id_twice_raises_conflict(container: Container) -> None:
    key_id = uuid4()
    container.keys.save(ApiKey.issue(key_id, "first", "editor", "a" * 64, "tdg_first0"))

    with pytest.raises(Conflict):
        container.keys.save(ApiKey.issue(key_id, "second", "admin", "b" * 64, "tdg_second"))

    assert container.keys.get(key_id).name == "first"
