"""Every free-text field refuses U+0000 with an error naming the field (PostgreSQL text cannot hold it),
and keeps any other character."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import campaign_content, campaign_settings, segment, tag_catalogue, template
from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
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
