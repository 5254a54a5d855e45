"""Random sequences of campaign commands by random actors in random roles: the campaign never reaches an illegal
state, four-eyes always holds (no approver of version v is among v's authors), every refusal is the right one,
and replaying what was recorded rebuilds the live campaign."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from uuid import UUID

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.campaign import Campaign
from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from domain.campaign_workflow import (
    APPROVED_STATES,
    APPROVING_ROLES,
    TRANSITIONS,
    Action,
    ApproverIsAuthor,
    ApproverRoleRequired,
    IllegalTransition,
    Problem,
    State,
    SubmissionBlocked,
    UnknownVersion,
    VersionNotUnderReview,
)
from domain.errors import DomainError
from domain.events import caused_by
from tests.domain.scenarios import replay, state

CAMPAIGN = UUID("5b0e1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d")
T0 = datetime(2030, 1, 1, tzinfo=UTC)

actors = st.sampled_from(["api_key:ann", "api_key:bob", "api_key:cy", "cli:ops"])
# Weighted towards what moves a campaign forward, so runs reach the late states often.
roles = st.sampled_from(["approver", "approver", "admin", "editor", "analyst"])
subjects = st.sampled_from(["Hello", "Hi", "Sale", "Sale!"])
comments = st.one_of(st.none(), st.sampled_from(["", "fix the subject", "ok"]))
BLOCKER = Problem("required", "subject is required", field="subject")
WARNING = Problem("http_link", "plain http", severity="warning")


class CampaignWorkflow(RuleBasedStateMachine):
    """One campaign driven by every command the aggregate has."""

    def __init__(self) -> None:
        super().__init__()
        self.campaign: Campaign
        self.recorded: list[Any] = []
        self.actors_of_versions: list[str] = []

    def _do(self, actor: str, action: Action | None, command: Any) -> DomainError | None:
        """Run ``command`` as ``actor``; check that it was refused exactly when ``action`` was not allowed."""
        c = self.campaign
        allowed = c.allowed()
        before, versions_before = c.state, len(c.versions)
        try:
            with caused_by(actor):
                command(c)
        except DomainError as exc:
            assert c.collect_events() == [], "a refused command records nothing"
            if isinstance(exc, IllegalTransition):
                assert action not in allowed and exc.details["allowed"] == [a.value for a in allowed]
            elif isinstance(exc, ApproverIsAuthor | ApproverRoleRequired | VersionNotUnderReview | SubmissionBlocked):
                assert action in allowed, "the workflow is checked before the rules of the action"
            return exc
        new = list(c.collect_events())
        self.recorded.extend(new)
        assert action is None or not new or action in allowed
        self.actors_of_versions += [actor] * (len(c.versions) - versions_before)
        if new and action is not None and action not in (Action.EDIT, Action.RESUME):
            assert c.state is TRANSITIONS[before][action]
        return None

    @initialize(actor=actors, subject=subjects)
    def create(self, actor: str, subject: str) -> None:
        with caused_by(actor):
            self.campaign = Campaign.create(CAMPAIGN, "Launch", CampaignSettings(), Content(subject=subject))
        self.recorded.extend(self.campaign.collect_events())
        self.actors_of_versions = [actor]

    @rule(actor=actors, subject=subjects, from_name=st.sampled_from(["", "Shop"]), number=st.integers(1, 8),
          kind=st.sampled_from(["content", "settings", "restore"]))  # fmt: skip
    def edit(self, actor: str, subject: str, from_name: str, number: int, kind: str) -> None:
        if kind == "content":
            self._do(actor, Action.EDIT, lambda c: c.save_content(Content(subject=subject, html="<p>x</p>")))
        elif kind == "settings":
            self._do(actor, Action.EDIT, lambda c: c.configure(CampaignSettings(from_name=from_name)))
        else:
            error = self._do(actor, Action.EDIT, lambda c: c.restore(number))
            assert not isinstance(error, UnknownVersion) or number > len(self.campaign.versions)

    @rule(actor=actors, name=st.sampled_from(["Launch", "Relaunch"]))
    def rename(self, actor: str, name: str) -> None:
        assert self._do(actor, None, lambda c: c.rename(name)) is None, "labels change in any state"

    @rule(actor=actors, problems=st.sampled_from([[], [], [WARNING], [BLOCKER], [WARNING, BLOCKER]]), comment=comments)
    def submit(self, actor: str, problems: list[Problem], comment: str | None) -> None:
        error = self._do(actor, Action.SUBMIT, lambda c: c.submit(problems, comment))
        assert isinstance(error, SubmissionBlocked) is (BLOCKER in problems and self.campaign.state is State.DRAFT)

    @rule(actor=actors, role=roles, stale=st.sampled_from([False, False, False, True]), comment=comments)
    def approve(self, actor: str, role: str, stale: bool, comment: str | None) -> None:
        c = self.campaign
        version = c.current.number - 1 if stale else c.current.number
        error = self._do(actor, Action.APPROVE, lambda c: c.approve(role, version, comment))
        if isinstance(error, VersionNotUnderReview):
            assert stale
        elif isinstance(error, ApproverRoleRequired):
            assert role not in APPROVING_ROLES
        elif isinstance(error, ApproverIsAuthor):
            assert actor in c.authors_of(c.current.number)
        elif error is None:
            assert not stale and role in APPROVING_ROLES and actor not in c.authors_of(c.current.number)

    @rule(actor=actors, comment=comments)
    def request_changes(self, actor: str, comment: str | None) -> None:
        self._do(actor, Action.REQUEST_CHANGES, lambda c: c.request_changes(comment))

    @rule(actor=actors, days=st.integers(0, 30))
    def schedule(self, actor: str, days: int) -> None:
        self._do(actor, Action.SCHEDULE, lambda c: c.schedule(T0 + timedelta(days=days)))

    @rule(actor=actors, command=st.sampled_from(["pause", "resume", "start_sending", "mark_sent"] * 3 + ["cancel"]))
    def transition(self, actor: str, command: str) -> None:
        action = Action(command.replace("_", "-")) if command != "mark_sent" else Action.MARK_SENT
        self._do(actor, action, lambda c: getattr(c, command)())

    # Twice, so that runs often walk the whole way to sent between the edits that send them back to draft.
    @rule(actor=actors, role=roles)
    def advance(self, actor: str, role: str) -> None:
        self._forward(actor, role)

    @rule(actor=actors, role=roles)
    def advance_again(self, actor: str, role: str) -> None:
        self._forward(actor, role)

    def _forward(self, actor: str, role: str) -> None:
        hold = actor == "cli:ops"  # an operator on call pauses instead
        forward = {
            State.DRAFT: (Action.SUBMIT, lambda c: c.submit([])),
            State.IN_REVIEW: (Action.APPROVE, lambda c: c.approve(role)),
            State.APPROVED: (Action.SCHEDULE, lambda c: c.schedule(T0)),
            State.SCHEDULED: (Action.PAUSE, lambda c: c.pause())
            if hold
            else (Action.START_SENDING, lambda c: c.start_sending()),
            State.SENDING: (Action.PAUSE, lambda c: c.pause()) if hold else (Action.MARK_SENT, lambda c: c.mark_sent()),
            State.PAUSED: (Action.RESUME, lambda c: c.resume()),
        }
        if self.campaign.state in forward:
            self._do(actor, *forward[self.campaign.state])

    @invariant()
    def the_state_is_legal(self) -> None:
        c = self.campaign
        event(f"reached {c.state.value}")
        assert c.state in State
        assert (c.paused_from is not None) is (c.state is State.PAUSED)
        assert c.paused_from in (None, State.SCHEDULED, State.SENDING)
        if c.state in APPROVED_STATES:
            assert c.approval is not None and c.approval.version == c.current.number
            assert c.scheduled_at is not None or c.state is State.APPROVED
        if c.state in (State.DRAFT, State.IN_REVIEW):
            assert c.approval is None and c.scheduled_at is None

    @invariant()
    def four_eyes_always_holds(self) -> None:
        c = self.campaign
        approvals = [e for e in self.recorded if isinstance(e, Campaign.Approved)]
        assert all(e.approver == e.actor and e.approver not in c.authors_of(e.version) for e in approvals)
        submitted = [e.version for e in self.recorded if isinstance(e, Campaign.Submitted)]
        assert all(e.version in submitted for e in approvals), "only submitted versions are approved"

    @invariant()
    def versions_are_immutable_numbered_and_hashed(self) -> None:
        versions = self.campaign.versions
        assert [v.number for v in versions] == list(range(1, len(versions) + 1))
        assert all(v.content_hash == v.content.digest() for v in versions)
        assert [v.author for v in versions] == self.actors_of_versions
        assert all(a.content_hash != b.content_hash for a, b in pairwise(versions))

    @invariant()
    def replay_equals_live(self) -> None:
        assert state(replay(self.recorded)) == state(self.campaign)
        assert self.campaign.version == len(self.recorded)


CampaignWorkflow.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestCampaignWorkflow = CampaignWorkflow.TestCase
