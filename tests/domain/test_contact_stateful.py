"""Any sequence of upserts of one contact: its state is the last value given to each field, and replaying
what was recorded rebuilds exactly the live contact."""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.contact import KEEP, Contact
from tests.domain.scenarios import replay, state

names = st.sampled_from(["plan", "seats", "vip", "since", "score", "city"])
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_characters="\x00"), max_size=20),
    st.sampled_from(["2024-05-01", "2024-05-01T10:00:00Z"]),
)
timezones = st.sampled_from([KEEP, None, "UTC", "Europe/Paris", "america/new_york", "Asia/Tokyo"])
locales = st.sampled_from([KEEP, None, "en", "fr-FR", "pt_br", "zh-Hant-TW"])
CANONICAL = {"america/new_york": "America/New_York", "pt_br": "pt-BR"}


def canonical(value: Any) -> Any:
    """The stored form: integral floats are ints, so ``2.0`` and ``2`` are one value."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)
    return value


def typed(fields: dict[str, Any]) -> dict[str, Any]:
    """Fields compared by kind as well as value (``True == 1`` in Python, not for a contact)."""
    return {**fields, "attributes": {k: (type(v), v) for k, v in fields["attributes"].items()}}


class ContactUpserts(RuleBasedStateMachine):
    """Random upserts of one contact against a plain dict model of the expected fields."""

    def __init__(self) -> None:
        super().__init__()
        self.contact: Contact
        self.recorded: list[Any] = []
        self.expected: dict[str, Any] = {}

    def _collect(self) -> list[Any]:
        new = list(self.contact.collect_events())
        self.recorded.extend(new)
        return new

    @initialize(attributes=st.dictionaries(names, values, max_size=4), timezone=timezones, locale=locales)
    def register(self, attributes: dict[str, Any], timezone: Any, locale: Any) -> None:
        tz = None if timezone is KEEP else timezone
        loc = None if locale is KEEP else locale
        self.contact = Contact.register("Ann@Example.com", attributes, tz, loc)
        self.expected = {
            "attributes": {k: canonical(v) for k, v in attributes.items() if v is not None},
            "timezone": CANONICAL.get(tz, tz),
            "locale": CANONICAL.get(loc, loc),
        }
        assert [type(e) for e in self._collect()] == [Contact.Registered]

    @rule(attributes=st.dictionaries(names, values, max_size=4), timezone=timezones, locale=locales)
    def upsert(self, attributes: dict[str, Any], timezone: Any, locale: Any) -> None:
        before = dict(self.expected, attributes=dict(self.expected["attributes"]))
        for name, value in attributes.items():
            if value is None:
                self.expected["attributes"].pop(name, None)
            else:
                self.expected["attributes"][name] = canonical(value)
        if timezone is not KEEP:
            self.expected["timezone"] = CANONICAL.get(timezone, timezone)
        if locale is not KEEP:
            self.expected["locale"] = CANONICAL.get(locale, locale)

        changed = self.contact.update(attributes, timezone, locale)

        new = self._collect()
        assert changed is bool(new)
        assert bool(new) is (typed(self.expected) != typed(before)), "an event exactly when something changed"

    @invariant()
    def the_state_is_the_last_value_given_to_each_field(self) -> None:
        actual = {"attributes": self.contact.attributes, "timezone": self.contact.timezone,
                  "locale": self.contact.locale}  # fmt: skip
        assert typed(actual) == typed(self.expected)

    @invariant()
    def replaying_the_recorded_events_rebuilds_the_live_contact(self) -> None:
        assert state(replay(self.recorded)) == state(self.contact)
        assert self.contact.version == len(self.recorded)


ContactUpserts.TestCase.settings = settings(max_examples=80, stateful_step_count=15, deadline=None)
TestContactUpserts = ContactUpserts.TestCase
