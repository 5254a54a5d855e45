"""Any sequence of suppressions and lifts of one address, with replayed causes: the state is what a plain
model predicts, an event is recorded exactly when something changed (or, when a new cause changed nothing,
the cause is noted), and replay rebuilds the live record."""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from domain.suppression import Reason, Suppression
from tests.domain.scenarios import replay, state

reasons = st.sampled_from([r.value for r in Reason])
sources = st.sampled_from(["admin", "esp", "system"])
causes = st.one_of(st.none(), st.sampled_from(["evt-1", "evt-2", "evt-3", "evt-4"]))


class SuppressionChanges(RuleBasedStateMachine):
    """Random suppressions and lifts against a model of (active, reason, causes seen)."""

    def __init__(self) -> None:
        super().__init__()
        self.record = Suppression.open("ann@example.com")
        self.recorded: list[Any] = list(self.record.collect_events())
        self.active, self.reason, self.causes = False, None, set[str]()

    def _collect(self, changed: bool, cause: str | None, fresh: bool) -> None:
        new = list(self.record.collect_events())
        noted = not changed and fresh and cause is not None
        assert [type(e).__name__ for e in new] == ["CauseNoted"] if noted else bool(new) is changed
        self.recorded.extend(new)
        if new and cause is not None:
            self.causes.add(cause)

    @rule(reason=reasons, source=sources, cause=causes)
    def suppress(self, reason: str, source: str, cause: str | None) -> None:
        fresh = cause is None or cause not in self.causes
        expected = fresh and not (self.active and self.reason == reason)

        changed = self.record.suppress(reason, source, cause)

        assert changed is expected
        self._collect(changed, cause, fresh)
        if changed:
            self.active, self.reason = True, reason

    @rule(source=sources, cause=causes, only=st.one_of(st.none(), reasons))
    def lift(self, source: str, cause: str | None, only: str | None) -> None:
        fresh = cause is None or cause not in self.causes
        expected = self.active and fresh and (only is None or only == self.reason)

        changed = self.record.lift(source, cause, only_reason=only)

        assert changed is expected
        self._collect(changed, cause, fresh)
        if changed:
            self.active, self.reason = False, None

    @invariant()
    def the_state_is_what_the_model_predicts(self) -> None:
        assert (self.record.active, self.record.reason, self.record.causes) == (self.active, self.reason, self.causes)

    @invariant()
    def replaying_the_recorded_events_rebuilds_the_live_record(self) -> None:
        assert state(replay(self.recorded)) == state(self.record)


SuppressionChanges.TestCase.settings = settings(max_examples=60, stateful_step_count=20, deadline=None)
TestSuppressionChanges = SuppressionChanges.TestCase
