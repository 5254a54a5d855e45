"""Campaign content versions, restore and review workflow: given a history, when a command, then events or error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.campaign import Approval, Campaign
from domain.campaign_content import Content, InvalidContent
from domain.campaign_settings import CampaignSettings, InvalidSettings
from domain.campaign_workflow import (
    ApproverIsAuthor,
    ApproverRoleRequired,
    CommentRequired,
    IllegalTransition,
    Problem,
    State,
    SubmissionBlocked,
    UnknownVersion,
    VersionNotUnderReview,
)
from domain.events import caused_by
from domain.preference_sources import InvalidInstant
from tests.domain.scenarios import replay

ANN, BOB, CY = "api_key:ann", "api_key:bob", "api_key:cy"
SEGMENT = UUID("3f4a9d3e-8a55-4c2b-9f1e-2a7b6c5d4e01")
SETTINGS = CampaignSettings(category="news", esp_connection_id=uuid4(), from_address="news@example.com",
                            include_segments=(SEGMENT,))  # fmt: skip
LATER = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
Step = tuple[str, Callable[[Campaign], Any]]


def content(subject: str = "Hello", html: str = "<p>Hi</p>", **more: Any) -> Content:
    return Content(subject=subject, html=html, **more)


def given(*steps: Step, author: str = ANN) -> Campaign:
    """A campaign created by ``author`` (version 1), then these (actor, command) steps, rebuilt from its events."""
    with caused_by(author):
        campaign = Campaign.create(uuid4(), "Spring sale", SETTINGS, content())
    for actor, command in steps:
        with caused_by(actor):
            command(campaign)
    rebuilt = replay(campaign.collect_events())
    assert isinstance(rebuilt, Campaign)
    return rebuilt


def when(campaign: Campaign, actor: str, command: Callable[[Campaign], Any]) -> list[Any]:
    with caused_by(actor):
        command(campaign)
    return list(campaign.collect_events())


def names(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


SUBMITTED: Step = (ANN, lambda c: c.submit([]))
APPROVED: Step = (BOB, lambda c: c.approve("approver"))
SCHEDULED: Step = (ANN, lambda c: c.schedule(LATER))


def test_creating_saves_content_version_1_with_author_and_hash() -> None:
    with caused_by(ANN):
        campaign = Campaign.create(uuid4(), " Spring sale ", SETTINGS, content(" Hello "))

    created, saved = campaign.collect_events()
    assert isinstance(created, Campaign.Created) and isinstance(saved, Campaign.ContentSaved)
    assert (campaign.name, campaign.state) == ("Spring sale", State.DRAFT)
    version = campaign.current
    assert (version.number, version.author, version.content.subject) == (1, ANN, "Hello")
    assert version.content_hash == content("Hello").digest() != content("Hello!").digest()
    assert len(version.content_hash) == 64


def test_every_content_save_is_a_new_version_and_an_unchanged_save_records_nothing() -> None:
    campaign = given()

    events = when(campaign, BOB, lambda c: c.save_content(content("Hello again")))
    unchanged = when(campaign, BOB, lambda c: c.save_content(content("Hello again")))

    assert names(events) == ["ContentSaved"] and unchanged == []
    assert [v.number for v in campaign.versions] == [1, 2]
    assert campaign.content_version(1).content.subject == "Hello"
    assert campaign.current.author == BOB


def test_restoring_saves_the_old_content_as_a_new_version() -> None:
    campaign = given((ANN, lambda c: c.save_content(content("Second"))))

    [event] = when(campaign, BOB, lambda c: c.restore(1))

    assert isinstance(event, Campaign.ContentSaved)
    assert (event.number, event.restored_from, event.author) == (3, 1, BOB)
    assert campaign.current.content == campaign.content_version(1).content
    assert campaign.current.content_hash == campaign.content_version(1).content_hash
    assert when(campaign, BOB, lambda c: c.restore(3)) == []
    with pytest.raises(UnknownVersion):
        campaign.restore(9)


def test_submission_is_refused_on_blocking_problems_and_keeps_the_warnings() -> None:
    campaign = given()
    blocking = Problem("liquid_syntax", "unexpected '}'", field="html", line=3, column=7)
    warning = Problem("http_link", "a link uses plain http", severity="warning", field="html")

    with pytest.raises(SubmissionBlocked) as refused:
        campaign.submit([blocking, warning])
    [event] = when(campaign, ANN, lambda c: c.submit([warning], "ready"))

    assert [p["code"] for p in refused.value.details["problems"]] == ["liquid_syntax", "http_link"]
    assert refused.value.details["problems"][0]["line"] == 3
    assert isinstance(event, Campaign.Submitted)
    assert (event.version, event.warnings, event.comment) == (1, [warning], "ready")
    assert campaign.state is State.IN_REVIEW


def test_an_approver_who_is_not_the_author_approves_the_version_under_review() -> None:
    campaign = given(SUBMITTED)

    [event] = when(campaign, BOB, lambda c: c.approve("approver", version=1, comment="lgtm"))

    assert isinstance(event, Campaign.Approved)
    assert (event.version, event.approver, event.role, event.actor) == (1, BOB, "approver", BOB)
    assert campaign.state is State.APPROVED and campaign.approval == Approval(1, BOB)


def test_rejects_approval_by_the_author() -> None:
    campaign = given((BOB, lambda c: c.save_content(content("Bob's words"))), SUBMITTED)

    with caused_by(BOB), pytest.raises(ApproverIsAuthor) as refused:
        campaign.approve("admin")

    assert refused.value.details == {"version": 2, "approver": BOB}
    assert campaign.collect_events() == []


def test_a_restored_version_counts_its_original_author_too() -> None:
    campaign = given((BOB, lambda c: c.save_content(content("Bob's words"))), (CY, lambda c: c.save_content(content())),
                     (ANN, lambda c: c.restore(2)), SUBMITTED)  # fmt: skip

    assert campaign.authors_of(4) == {ANN, BOB}
    with caused_by(BOB), pytest.raises(ApproverIsAuthor):
        campaign.approve("approver")
    assert names(when(campaign, CY, lambda c: c.approve("approver"))) == ["Approved"]


def test_rejects_approval_without_an_approving_role() -> None:
    campaign = given(SUBMITTED)

    with caused_by(BOB), pytest.raises(ApproverRoleRequired) as refused:
        campaign.approve("editor")

    assert refused.value.details["allowed_roles"] == ["admin", "approver"]


def test_rejects_approval_of_a_version_that_is_not_under_review() -> None:
    campaign = given((ANN, lambda c: c.save_content(content("v2"))), SUBMITTED)

    with caused_by(BOB), pytest.raises(VersionNotUnderReview) as refused:
        campaign.approve("approver", version=1)

    assert refused.value.details == {"version": 1, "under_review": 2}


def test_an_edit_after_approval_returns_to_draft_and_drops_the_approval() -> None:
    campaign = given(SUBMITTED, APPROVED, SCHEDULED)

    events = when(campaign, ANN, lambda c: c.save_content(content("Changed")))

    assert names(events) == ["ReturnedToDraft", "ContentSaved"]
    assert events[0].previous == "scheduled"
    assert (campaign.state, campaign.approval, campaign.scheduled_at) == (State.DRAFT, None, None)


def test_a_settings_change_after_approval_returns_to_draft_but_labels_do_not() -> None:
    campaign = given(SUBMITTED, APPROVED)

    labels = when(campaign, ANN, lambda c: (c.rename("Summer sale"), c.annotate("moved a week")))
    assert names(labels) == ["Renamed", "NotesChanged"] and campaign.state is State.APPROVED
    settings = when(campaign, ANN, lambda c: c.configure(CampaignSettings(**{**vars(SETTINGS), "from_name": "Shop"})))

    assert names(settings) == ["ReturnedToDraft", "Configured"]
    assert campaign.settings.from_name == "Shop" and campaign.approval is None


def test_requesting_changes_needs_a_comment_and_returns_to_draft() -> None:
    campaign = given(SUBMITTED)

    with pytest.raises(CommentRequired):
        campaign.request_changes("  ")
    [event] = when(campaign, BOB, lambda c: c.request_changes("fix the subject"))

    assert (event.version, event.comment) == (1, "fix the subject")
    assert campaign.state is State.DRAFT


def test_illegal_transitions_name_the_allowed_ones() -> None:
    campaign = given()

    with pytest.raises(IllegalTransition) as refused:
        campaign.approve("approver")

    assert refused.value.details == {"state": "draft", "action": "approve", "allowed": ["edit", "submit", "cancel"]}


def test_pause_and_resume_return_to_where_the_campaign_was() -> None:
    campaign = given(SUBMITTED, APPROVED, SCHEDULED, (ANN, lambda c: c.start_sending()))

    paused = when(campaign, ANN, lambda c: c.pause("ESP incident"))
    with pytest.raises(IllegalTransition) as no_edit:
        campaign.save_content(content("Too late"))
    resumed = when(campaign, ANN, lambda c: c.resume())

    assert paused[0].previous == "sending" and no_edit.value.details["allowed"] == ["resume", "cancel"]
    assert resumed[0].state == "sending" and campaign.state is State.SENDING
    assert names(when(campaign, "system", lambda c: c.mark_sent())) == ["Sent"]
    assert campaign.allowed() == [] and campaign.approval == Approval(1, BOB)


def test_a_campaign_paused_before_sending_can_be_edited_back_to_draft() -> None:
    campaign = given(SUBMITTED, APPROVED, SCHEDULED, (ANN, lambda c: c.pause()))

    events = when(campaign, ANN, lambda c: c.save_content(content("Fixed")))

    assert names(events) == ["ReturnedToDraft", "ContentSaved"] and campaign.paused_from is None


def test_cancelled_is_final() -> None:
    campaign = given((ANN, lambda c: c.cancel("wrong audience")))

    with pytest.raises(IllegalTransition) as refused:
        campaign.submit([])

    assert refused.value.details["allowed"] == []


def test_scheduling_needs_an_instant_with_an_offset_and_stores_it_in_utc() -> None:
    campaign = given(SUBMITTED, APPROVED)

    with pytest.raises(InvalidInstant):
        campaign.schedule(datetime(2030, 1, 1, 9, 0))
    when(campaign, ANN, lambda c: c.schedule(datetime(2030, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))))

    assert campaign.scheduled_at == LATER and campaign.scheduled_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("subject", "preheader", "field"),
    [("Hi\r\nBcc: x@example.com", "", "subject"), ("x" * 999, "", "subject"), ("ok", "line\nbreak", "preheader")],
)
def test_content_must_fit_in_a_message(subject: str, preheader: str, field: str) -> None:
    with pytest.raises(InvalidContent) as refused:
        given().save_content(Content(subject=subject, preheader=preheader))

    assert refused.value.details["field"] == field


def test_settings_normalize_addresses_and_refuse_overlapping_segments() -> None:
    campaign = given()
    when(campaign, ANN, lambda c: c.configure(CampaignSettings(from_address=" News@Example.COM ",
                                                               include_segments=(SEGMENT, SEGMENT))))  # fmt: skip

    assert campaign.settings.from_address == "news@example.com"
    assert campaign.settings.include_segments == (SEGMENT,)
    with pytest.raises(InvalidSettings):
        campaign.configure(CampaignSettings(include_segments=(SEGMENT,), exclude_segments=(SEGMENT,)))
