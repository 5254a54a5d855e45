"""Templates: a layout holds the content slot exactly once; every layout change is the next version."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.template import CONTENT_SLOT, InvalidLayout, Template
from tests.domain.scenarios import replay, state

LAYOUT = f"<html><body><header>Shop</header>{CONTENT_SLOT}</body></html>"


def test_creating_records_layout_version_1() -> None:
    template = Template.create(uuid4(), " Newsletter ", LAYOUT, "{{content}}\n-- Shop")

    [event] = template.collect_events()
    assert isinstance(event, Template.Created)
    assert (template.name, template.layout_version, template.text) == ("Newsletter", 1, "{{content}}\n-- Shop")


@pytest.mark.parametrize(
    ("html", "slots"), [("<p>no slot</p>", 0), (f"{CONTENT_SLOT}{CONTENT_SLOT}", 2), ("{{ contents }}", 0)]
)
def test_a_layout_needs_the_slot_exactly_once(html: str, slots: int) -> None:
    with pytest.raises(InvalidLayout) as refused:
        Template.create(uuid4(), "Broken", html)

    assert refused.value.details == {"field": "html", "slots": slots}


def test_an_empty_text_layout_means_none_and_a_given_one_needs_the_slot() -> None:
    assert Template.create(uuid4(), "T", LAYOUT, "").text is None
    with pytest.raises(InvalidLayout) as refused:
        Template.create(uuid4(), "T", LAYOUT, "plain footer")

    assert refused.value.details["field"] == "text"


def test_a_layout_change_is_the_next_version_and_an_unchanged_one_records_nothing() -> None:
    template = Template.create(uuid4(), "Newsletter", LAYOUT)
    template.collect_events()

    template.change_layout(LAYOUT, None)
    template.rename("Newsletter")
    assert template.collect_events() == []
    template.change_layout(LAYOUT.replace("Shop", "Store"), None)

    [event] = template.collect_events()
    assert isinstance(event, Template.LayoutChanged)
    assert (event.layout_version, template.layout_version) == (2, 2)


layouts = st.sampled_from([LAYOUT, "<div>{{content}}</div>", "{{- content -}}"])
texts = st.sampled_from([None, "{{ content }}", "Hi\n{{ content }}"])


@settings(max_examples=100)
@given(steps=st.lists(st.one_of(st.tuples(layouts, texts), st.sampled_from(["A", "B"])), max_size=12))
def test_any_history_replays_to_the_live_template(steps: list[object]) -> None:
    template = Template.create(uuid4(), "A", LAYOUT)
    layouts_seen = [(LAYOUT, None)]
    for step in steps:
        if isinstance(step, tuple):
            template.change_layout(*step)
            if step != layouts_seen[-1]:
                layouts_seen.append(step)
        else:
            template.rename(str(step))

    assert state(replay(template.collect_events())) == state(template)
    assert template.layout_version == len(layouts_seen)
    assert (template.html, template.text) == layouts_seen[-1]
