"""A campaign's workflow: its states, which action leads where, the problems that block a submission.

The table is the whole workflow; the aggregate asks it before every transition, and the read side asks
it for the actions a client may offer. ``edit`` (a content or sending-settings change) is an action too:
it returns a campaign under review, approved or scheduled to draft, dropping its approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import Forbidden, Invalid, NotFound, RuleViolated


class State(StrEnum):
    """Where a campaign is in its life."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    PAUSED = "paused"
    CANCELLED = "cancelled"


class Action(StrEnum):
    """What can be done to a campaign (the names of the HTTP transition endpoints where there is one)."""

    EDIT = "edit"
    SUBMIT = "submit"
    APPROVE = "approve"
    REQUEST_CHANGES = "request-changes"
    SCHEDULE = "schedule"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    START_SENDING = "start-sending"
    MARK_SENT = "mark-sent"
    NEXT_RUN = "next-run"  # a recurring campaign's run finished and its next occurrence is planned


S, A = State, Action
# state -> action -> next state. RESUME returns to the state the campaign was paused in; a campaign paused
# while sending cannot be edited (part of the audience already has the approved content).
TRANSITIONS: dict[State, dict[Action, State]] = {
    S.DRAFT: {A.EDIT: S.DRAFT, A.SUBMIT: S.IN_REVIEW, A.CANCEL: S.CANCELLED},
    S.IN_REVIEW: {A.EDIT: S.DRAFT, A.APPROVE: S.APPROVED, A.REQUEST_CHANGES: S.DRAFT, A.CANCEL: S.CANCELLED},
    S.APPROVED: {A.EDIT: S.DRAFT, A.REQUEST_CHANGES: S.DRAFT, A.SCHEDULE: S.SCHEDULED, A.CANCEL: S.CANCELLED},
    S.SCHEDULED: {A.EDIT: S.DRAFT, A.SCHEDULE: S.SCHEDULED, A.PAUSE: S.PAUSED, A.START_SENDING: S.SENDING,
                  A.CANCEL: S.CANCELLED},
    S.SENDING: {A.PAUSE: S.PAUSED, A.MARK_SENT: S.SENT, A.NEXT_RUN: S.SCHEDULED, A.CANCEL: S.CANCELLED},
    S.PAUSED: {A.RESUME: S.PAUSED, A.EDIT: S.DRAFT, A.CANCEL: S.CANCELLED},
    S.SENT: {},
    S.CANCELLED: {},
}  # fmt: skip
# States in which the campaign holds an approval of its current content version.
APPROVED_STATES = frozenset({S.APPROVED, S.SCHEDULED, S.SENDING, S.PAUSED, S.SENT})
APPROVING_ROLES = frozenset({"approver", "admin"})


class IllegalTransition(RuleViolated):
    """The action is not possible in the campaign's current state; ``details.allowed`` lists what is."""

    code = "illegal_transition"


class SubmissionBlocked(Invalid):
    """Validation found blocking problems; ``details.problems`` lists every problem found."""

    code = "submission_blocked"


class VersionNotUnderReview(RuleViolated):
    """An approval names the content version the approver saw; it must still be the one under review."""

    code = "version_not_under_review"


class UnknownVersion(NotFound):
    """The campaign has no content version with this number."""

    code = "unknown_version"


class ApproverRoleRequired(Forbidden):
    """Only keys with the approver (or admin) role approve."""

    code = "approver_role_required"


class ApproverIsAuthor(Forbidden):
    """Four-eyes: nobody approves content they authored."""

    code = "approver_is_author"


class CommentRequired(Invalid):
    """Requesting changes says what to change."""

    code = "comment_required"


def allowed_actions(state: State, paused_from: State | None = None) -> list[Action]:
    """The actions possible in ``state``, in the table's order."""
    actions = list(TRANSITIONS[state])
    if state is State.PAUSED and paused_from is not State.SCHEDULED:
        actions.remove(Action.EDIT)
    return actions


def next_state(state: State, action: Action, paused_from: State | None = None) -> State:
    """Where ``action`` leads from ``state``, or ``IllegalTransition`` listing the allowed actions."""
    allowed = allowed_actions(state, paused_from)
    if action not in allowed:
        raise IllegalTransition(
            f"cannot {action.value} a campaign that is {state.value}",
            state=state.value,
            action=action.value,
            allowed=[a.value for a in allowed],
        )
    if action is Action.RESUME and paused_from is not None:
        return paused_from
    return TRANSITIONS[state][action]


@dataclass(frozen=True)
class Problem:
    """One finding of validation; ``error`` blocks submission, ``warning`` does not."""

    code: str
    message: str
    severity: str = "error"
    field: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def blocking(self) -> bool:
        """Whether this problem refuses submission."""
        return self.severity == "error"
