"""Any sequence of API key commands: replaying what was recorded rebuilds exactly the live key."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.api_key import MAX_NAME, ApiKey, Role
from domain.errors import ApiKeyAlreadyRevoked, InvalidName
from tests.domain.scenarios import replay, state

# Printable by str.isprintable(): letters, marks, numbers, punctuation, symbols and the ASCII space.
printable = st.characters(categories=["L", "M", "N", "P", "S"], include_characters=" ")
valid_names = st.text(printable, min_size=1, max_size=MAX_NAME).filter(str.strip)
any_names = st.one_of(valid_names, st.text(max_size=MAX_NAME + 20))


def acceptable(name: str) -> bool:
    """The naming rule, stated independently of the code under test."""
    trimmed = name.strip()
    return 0 < len(trimmed) <= MAX_NAME and trimmed.isprintable()


class ApiKeyLifecycle(RuleBasedStateMachine):
    """Random renames and revocations of one key."""

    def __init__(self) -> None:
        super().__init__()
        self.key: ApiKey
        self.recorded: list[Any] = []
        self.ever_revoked = False

    def _collect(self) -> list[Any]:
        new = list(self.key.collect_events())
        self.recorded.extend(new)
        return new

    @initialize(name=valid_names, role=st.sampled_from([r.value for r in Role]))
    def issue(self, name: str, role: str) -> None:
        self.key = ApiKey.issue(uuid4(), name, role, "a" * 64, "tdg_AbCdEf")
        assert [type(e) for e in self._collect()] == [ApiKey.Issued]

    @rule(name=any_names)
    def rename(self, name: str) -> None:
        if acceptable(name):
            self.key.rename(name)
            assert [(type(e), e.name) for e in self._collect()] == [(ApiKey.Renamed, name.strip())]
        else:
            with pytest.raises(InvalidName):
                self.key.rename(name)
            assert self._collect() == []

    @rule()
    def revoke(self) -> None:
        if self.ever_revoked:
            with pytest.raises(ApiKeyAlreadyRevoked):
                self.key.revoke()
            assert self._collect() == []
        else:
            self.key.revoke()
            assert [type(e) for e in self._collect()] == [ApiKey.Revoked]
            self.ever_revoked = True

    @invariant()
    def replaying_the_recorded_events_rebuilds_the_live_key(self) -> None:
        assert state(replay(self.recorded)) == state(self.key)
        assert self.key.version == len(self.recorded)

    @invariant()
    def a_revoked_key_stays_revoked(self) -> None:
        assert self.key.revoked is self.ever_revoked


ApiKeyLifecycle.TestCase.settings = settings(max_examples=60, stateful_step_count=20, deadline=None)
TestApiKeyLifecycle = ApiKeyLifecycle.TestCase
