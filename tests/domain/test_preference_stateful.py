"""Any sequence of preference changes (any source, any order of effective times, replayed causes): the state
is what a plain model predicts, an event is recorded exactly when something changed (or, when a new cause
changed nothing, the cause is noted), and replaying what was recorded rebuilds the live aggregate. Likewise
for a category's edits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.contact_preferences import KEEP, ContactPreferences
from domain.preference_category import CategoryArchived, PreferenceCategory
from tests.domain.scenarios import replay, state

CONTACT = UUID("7d1f3a58-2b0e-4c39-8f43-0f3c1c8b5a10")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

instants = st.integers(0, 50).map(lambda m: T0 + timedelta(minutes=m))
sources = st.sampled_from(["contact", "admin", "esp", "import", "system"])
causes = st.one_of(st.none(), st.sampled_from(["evt-1", "evt-2", "evt-3"]))
choices = st.dictionaries(st.sampled_from(["news", "offers", "events"]), st.booleans(), max_size=3)
frequencies = st.sampled_from([KEEP, None, {"max": 1, "per": "day"}, {"max": 3, "per": "week"}, {"digest": "weekly"}])
pauses = st.one_of(st.just(KEEP), st.none(), st.integers(60, 600).map(lambda m: T0 + timedelta(minutes=m)))


class PreferenceChanges(RuleBasedStateMachine):
    """Random changes of one contact's preferences against a dict model."""

    def __init__(self) -> None:
        super().__init__()
        self.prefs: ContactPreferences
        self.recorded: list[Any] = []
        self.model: dict[str, Any] = {}
        self.causes: set[str] = set()
        self.last: datetime | None = None

    def _collect(self) -> list[Any]:
        new = list(self.prefs.collect_events())
        self.recorded.extend(new)
        return new

    @initialize()
    def start(self) -> None:
        self.prefs = ContactPreferences.start(CONTACT, effective_at=T0)
        self.model = {"opted_out": False, "categories": {}, "frequency": None, "paused_until": None}
        self._collect()

    @rule(opted_out=st.one_of(st.none(), st.booleans()), categories=choices, frequency=frequencies,
          paused_until=pauses, source=sources, at=instants, cause=causes)  # fmt: skip
    def change(self, opted_out: Any, categories: Any, frequency: Any, paused_until: Any, source: str,
               at: datetime, cause: str | None) -> None:  # fmt: skip
        before = {**self.model, "categories": dict(self.model["categories"])}
        applies = cause is None or cause not in self.causes
        if applies:
            if opted_out is not None:
                self.model["opted_out"] = opted_out
            self.model["categories"].update(categories)
            if frequency is not KEEP:
                self.model["frequency"] = frequency
            if paused_until is not KEEP:
                self.model["paused_until"] = paused_until

        changed = self.prefs.change(opted_out=opted_out, categories=categories, frequency=frequency,
                                    paused_until=paused_until, source=source, effective_at=at, cause=cause)  # fmt: skip

        new = self._collect()
        assert changed is (self.model != before)
        noted = applies and not changed and cause is not None
        assert [type(e).__name__ for e in new if type(e).__name__ == "CauseNoted"] == ["CauseNoted"] * noted
        assert bool(new) is (changed or noted), "an event exactly when something changed or a new cause came"
        assert all((e.source, e.effective_at, e.cause) == (source, at, cause) for e in new)
        if changed:
            self.last = at if self.last is None else max(self.last, at)
        if new and cause is not None:
            self.causes.add(cause)

    @rule(at=instants, cause=causes, category=st.one_of(st.none(), st.just("news")))
    def esp_resubscribe(self, at: datetime, cause: str | None, category: str | None) -> None:
        newer = self.last is None or at > self.last
        fresh = cause is None or cause not in self.causes
        wanted = not self.model["opted_out"] if category is None else self.model["categories"].get(category) is True

        changed = self.prefs.opt_in_if_newer(at, cause, category)

        assert changed is (newer and fresh and not wanted)
        new = self._collect()
        noted = newer and fresh and wanted and cause is not None
        assert [type(e).__name__ for e in new] == ["CauseNoted"] if noted else bool(new) is changed
        if noted:
            self.causes.add(cause)  # type: ignore[arg-type]
        if changed:
            if category is None:
                self.model["opted_out"] = False
            else:
                self.model["categories"][category] = True
            self.last = at
            if cause is not None:
                self.causes.add(cause)

    @invariant()
    def the_state_is_what_the_model_predicts(self) -> None:
        p = self.prefs
        assert (p.opted_out, p.categories, p.frequency, p.paused_until) == tuple(self.model.values())
        assert p.last_effective_at == self.last
        assert p.causes == self.causes

    @invariant()
    def replaying_the_recorded_events_rebuilds_the_live_preferences(self) -> None:
        assert state(replay(self.recorded)) == state(self.prefs)
        assert self.prefs.version == len(self.recorded)


PreferenceChanges.TestCase.settings = settings(max_examples=60, stateful_step_count=20, deadline=None)
TestPreferenceChanges = PreferenceChanges.TestCase


class CategoryEdits(RuleBasedStateMachine):
    """Random edits and archiving of one category."""

    def __init__(self) -> None:
        super().__init__()
        self.category = PreferenceCategory.define("news", "News", effective_at=T0)
        self.recorded: list[Any] = list(self.category.collect_events())
        self.model = {"name": "News", "description": "", "default_subscribed": True, "archived": False}

    @rule(name=st.one_of(st.none(), st.sampled_from(["News", "Newsletter"])),
          description=st.one_of(st.none(), st.sampled_from(["", "Monthly"])),
          default=st.one_of(st.none(), st.booleans()))  # fmt: skip
    def update(self, name: str | None, description: str | None, default: bool | None) -> None:
        before = dict(self.model)
        try:
            changed = self.category.update(name=name, description=description, default_subscribed=default)
        except CategoryArchived:
            assert self.model["archived"]
            return
        for field, value in (("name", name), ("description", description), ("default_subscribed", default)):
            if value is not None:
                self.model[field] = value
        new = list(self.category.collect_events())
        self.recorded.extend(new)
        assert changed is bool(new) is (self.model != before)

    @rule()
    def archive(self) -> None:
        changed = self.category.archive()
        assert changed is not self.model["archived"]
        self.model["archived"] = True
        self.recorded.extend(self.category.collect_events())

    @invariant()
    def replay_equals_live_and_the_model(self) -> None:
        c = self.category
        assert (c.name, c.description, c.default_subscribed, c.archived) == tuple(self.model.values())
        assert state(replay(self.recorded)) == state(c)


CategoryEdits.TestCase.settings = settings(max_examples=40, stateful_step_count=12, deadline=None)
TestCategoryEdits = CategoryEdits.TestCase
