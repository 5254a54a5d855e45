"""Every free-text field refuses U+0000 with an error naming the field (PostgreSQL text cannot hold it),
and keeps any other character; text from an ESP has its NULs replaced instead (it cannot be refused)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import campaign_content, campaign_settings, segment, tag_catalogue, template
from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from domain.email_event import BounceClass, EmailEventType, NormalizedEvent
from domain.errors import Invalid

SLOT = "{{ content }}"
CLEANERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "segment description": (segment.clean_description, "description"),
    "tag description": (tag_catalogue.clean_description, "description"),
    "template html": (lambda text: template.clean_layout(text + SLOT, "html"), "html"),
    "campaign subject": (lambda text: campaign_content.clean_content(Content(subject=text)), "subject"),
    "campaign html": (lambda text: campaign_content.clean_content(Content(subject="s", html=text)), "html"),
    "from name": (lambda text: campaign_settings.clean_settings(CampaignSettings(from_name=text)), "from_name"),
    "notes": (campaign_settings.clean_notes, "notes"),
    "review comment": (campaign_settings.clean_comment, "comment"),
}


@pytest.mark.parametrize("name", list(CLEANERS))
def test_a_nul_character_is_refused_naming_the_field(name: str) -> None:
    clean, field = CLEANERS[name]

    with pytest.raises(Invalid) as refused:
        clean("before\x00after")

    assert refused.value.details["field"] == field
    assert "NUL" in str(refused.value)


@pytest.mark.parametrize("name", list(CLEANERS))
@given(text=st.text(st.characters(blacklist_characters="\x00\r\n"), max_size=40))
def test_any_other_character_is_kept(name: str, text: str) -> None:
    clean, _ = CLEANERS[name]

    clean(text)  # no error; the cleaners' own results are tested with each aggregate


@given(
    texts=st.lists(st.text(st.characters(codec="utf-8"), max_size=12), min_size=4, max_size=4),
    kind=st.sampled_from(list(EmailEventType)),
    bounce=st.none() | st.sampled_from(list(BounceClass)),
)
def test_an_esp_event_without_nul_keeps_everything_else(texts: list[str], kind: EmailEventType, bounce: Any) -> None:
    reason, agent, key, value = texts
    event = NormalizedEvent(kind, reason, "ann@example.com", datetime(2026, 1, 1, tzinfo=UTC), bounce_class=bounce,
                            reason=reason, user_agent=agent, metadata={key: value}).keyed()  # fmt: skip

    clean = event.without_nul()

    assert clean.type is kind and clean.bounce_class is bounce  # enums stay enums
    assert not any("\x00" in v for v in (clean.reason, clean.user_agent, *clean.metadata, *clean.metadata.values()))
    assert (clean.reason, clean.user_agent) == (reason.replace("\x00", "\ufffd"), agent.replace("\x00", "\ufffd"))
    if not any("\x00" in t for t in texts):
        assert clean == event
