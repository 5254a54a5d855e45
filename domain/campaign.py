"""A campaign: sending settings, immutable content versions, and the review workflow with four-eyes approval.

Every content save is a new ``ContentVersion`` (``domain.campaign_content``); restoring an old version saves
its content again as a new version. Approval binds to one version: changing content or sending settings
afterwards returns the campaign to draft. The approver needs an approving role and must not be an author
of the version: whoever saved it, and for a restore also the authors of the version it restores.
Transitions follow ``domain.campaign_workflow``; every event records actor, request and reason, and every
transition an optional comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.api_key import clean_name
from domain.campaign_content import Content, ContentVersion, clean_content
from domain.campaign_settings import CampaignSettings, clean_comment, clean_instant, clean_notes, clean_settings
from domain.campaign_workflow import (
    APPROVING_ROLES,
    Action,
    ApproverIsAuthor,
    ApproverRoleRequired,
    CommentRequired,
    Problem,
    State,
    SubmissionBlocked,
    UnknownVersion,
    VersionNotUnderReview,
    allowed_actions,
    next_state,
)
from domain.events import TidingsAggregate, current_actor


@dataclass(frozen=True)
class Approval:
    """Who approved which content version."""

    version: int
    approver: str


class Campaign(TidingsAggregate):
    """Name, notes, sending settings, content versions and workflow state of one campaign."""

    @classmethod
    def create(
        cls, campaign_id: UUID, name: str, settings: CampaignSettings, content: Content, notes: str = ""
    ) -> Campaign:
        """A new draft campaign whose content is version 1."""
        settings = clean_settings(settings)
        campaign = cls(id=campaign_id, name=clean_name(name), notes=clean_notes(notes), settings=settings)
        campaign._save(clean_content(content), restored_from=None)
        return campaign

    @event("Created")
    def __init__(self, id: UUID, name: str, notes: str, settings: CampaignSettings) -> None:  # noqa: A002
        self.name = name
        self.notes = notes
        self.settings = settings
        self.state = State.DRAFT
        self.versions: list[ContentVersion] = []
        self.approval: Approval | None = None
        self.scheduled_at: datetime | None = None
        # The send plan (``domain.send_schedule.Schedule.to_dict``); None: one run at ``scheduled_at``.
        self.plan: dict[str, Any] | None = None
        self.paused_from: State | None = None

    # -- reading -------------------------------------------------------------------------------------

    @property
    def current(self) -> ContentVersion:
        """The newest content version (the one a submission or approval is about)."""
        return self.versions[-1]

    @property
    def content(self) -> Content:
        """The current content."""
        return self.current.content

    def content_version(self, number: int) -> ContentVersion:
        """Content version ``number``, or ``UnknownVersion``."""
        if not 1 <= number <= len(self.versions):
            raise UnknownVersion(f"campaign {self.id} has no version {number}", latest=len(self.versions))
        return self.versions[number - 1]

    def authors_of(self, number: int) -> set[str]:
        """Who authored version ``number``'s content: its saver, and the authors of what it restores."""
        found: set[str] = set()
        at: int | None = number
        while at is not None:
            v = self.content_version(at)
            found.add(v.author)
            at = v.restored_from
        return found

    def allowed(self) -> list[Action]:
        """The actions possible now."""
        return allowed_actions(self.state, self.paused_from)

    # -- labels: never sent, so they change in any state and never drop an approval -----------------

    def rename(self, name: str) -> None:
        """Give the campaign a new name (no event when it is the same)."""
        cleaned = clean_name(name)
        if cleaned != self.name:
            self._renamed(cleaned)

    @event("Renamed")
    def _renamed(self, name: str) -> None:
        self.name = name

    def annotate(self, notes: str) -> None:
        """Replace the internal notes (no event when they are the same)."""
        cleaned = clean_notes(notes)
        if cleaned != self.notes:
            self._annotated(cleaned)

    @event("NotesChanged")
    def _annotated(self, notes: str) -> None:
        self.notes = notes

    # -- edits: a change returns a campaign past draft to draft ----------------------------------------

    def configure(self, settings: CampaignSettings) -> None:
        """Replace the sending settings (no event when they are the same)."""
        cleaned = clean_settings(settings)
        if cleaned != self.settings:
            self._reopen()
            self._configured(cleaned)

    @event("Configured")
    def _configured(self, settings: CampaignSettings) -> None:
        self.settings = settings

    def save_content(self, content: Content) -> None:
        """Save ``content`` as a new version (no event when it equals the current version)."""
        cleaned = clean_content(content)
        if cleaned.digest() != self.current.content_hash:
            self._reopen()
            self._save(cleaned, restored_from=None)

    def restore(self, number: int) -> None:
        """Save version ``number``'s content as a new version (no event when it is the current content)."""
        old = self.content_version(number)
        if old.content_hash != self.current.content_hash:
            self._reopen()
            self._save(old.content, restored_from=number)

    def _save(self, content: Content, restored_from: int | None) -> None:
        self._content_saved(
            number=len(self.versions) + 1, content=content, content_hash=content.digest(), author=current_actor(),
            saved_at=datetime.now(UTC), restored_from=restored_from,
        )  # fmt: skip

    @event("ContentSaved")
    def _content_saved(
        self, *, number: int, content: Content, content_hash: str, author: str, saved_at: datetime,
        restored_from: int | None,
    ) -> None:  # fmt: skip
        self.versions.append(ContentVersion(number, content, content_hash, author, saved_at, restored_from))

    def _reopen(self) -> None:
        next_state(self.state, Action.EDIT, self.paused_from)
        if self.state is not State.DRAFT:
            self._returned_to_draft(previous=self.state.value, comment=None)

    @event("ReturnedToDraft")
    def _returned_to_draft(self, previous: str, comment: str | None) -> None:
        self._enter(State.DRAFT)

    # -- review ---------------------------------------------------------------------------------------

    def submit(self, problems: Sequence[Problem], comment: str | None = None) -> None:
        """Ask for review of the current version; refused while ``problems`` holds a blocking one."""
        next_state(self.state, Action.SUBMIT, self.paused_from)
        if any(p.blocking for p in problems):
            found = [asdict(p) for p in problems]
            raise SubmissionBlocked("the campaign has blocking problems; fix them and submit again", problems=found)
        warnings = [p for p in problems if not p.blocking]
        self._submitted(version=self.current.number, warnings=warnings, comment=clean_comment(comment))

    @event("Submitted")
    def _submitted(self, version: int, warnings: list[Problem], comment: str | None) -> None:
        self.state = State.IN_REVIEW

    def approve(self, role: str, version: int | None = None, comment: str | None = None) -> None:
        """Approve the version under review as the current actor (``version``: the one the approver saw)."""
        next_state(self.state, Action.APPROVE, self.paused_from)
        current = self.current.number
        if version is not None and version != current:
            raise VersionNotUnderReview(
                f"version {version} is not the version under review", version=version, under_review=current
            )
        if role not in APPROVING_ROLES:
            raise ApproverRoleRequired(f"role {role!r} may not approve", allowed_roles=sorted(APPROVING_ROLES))
        approver = current_actor()
        if approver in self.authors_of(current):
            raise ApproverIsAuthor(
                f"four-eyes rule: {approver} authored version {current} and may not approve it",
                version=current, approver=approver,
            )  # fmt: skip
        self._approved(version=current, approver=approver, role=role, comment=clean_comment(comment))

    @event("Approved")
    def _approved(self, version: int, approver: str, role: str, comment: str | None) -> None:
        self.state = State.APPROVED
        self.approval = Approval(version, approver)

    def request_changes(self, comment: str | None) -> None:
        """Send the campaign back to draft, saying what to change."""
        next_state(self.state, Action.REQUEST_CHANGES, self.paused_from)
        cleaned = clean_comment(comment)
        if cleaned is None:
            raise CommentRequired("requesting changes needs a comment saying what to change", field="comment")
        self._changes_requested(version=self.current.number, comment=cleaned)

    @event("ChangesRequested")
    def _changes_requested(self, version: int, comment: str) -> None:
        self._enter(State.DRAFT)

    # -- delivery states (delivery itself is elsewhere) ----------------------------------------------

    def schedule(self, at: datetime, comment: str | None = None, plan: dict[str, Any] | None = None) -> None:
        """Plan the send: its first run at ``at``, following ``plan`` (again: move it)."""
        next_state(self.state, Action.SCHEDULE, self.paused_from)
        self._scheduled(scheduled_at=clean_instant(at, "scheduled_at"), comment=clean_comment(comment), plan=plan)

    class Scheduled(TidingsAggregate.Event):
        """The send was planned: its first run at ``scheduled_at``, following ``plan`` (None: that run only).

        Version 2 added ``plan``; a version 1 event is one run at its instant.
        """

        class_version = 2

        scheduled_at: datetime
        comment: str | None
        plan: dict[str, Any] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Before plans, a schedule was one instant."""
            state["plan"] = None

    @event(Scheduled)
    def _scheduled(self, scheduled_at: datetime, comment: str | None, plan: dict[str, Any] | None = None) -> None:
        self.state = State.SCHEDULED
        self.scheduled_at = scheduled_at
        self.plan = plan

    def next_run(self, at: datetime, comment: str | None = None) -> None:
        """A recurring campaign's run finished: wait for the next occurrence, at ``at``."""
        next_state(self.state, Action.NEXT_RUN, self.paused_from)
        self._next_run(scheduled_at=clean_instant(at, "scheduled_at"), comment=clean_comment(comment))

    @event("NextRunScheduled")
    def _next_run(self, scheduled_at: datetime, comment: str | None) -> None:
        self.state = State.SCHEDULED
        self.scheduled_at = scheduled_at

    def pause(self, comment: str | None = None) -> None:
        """Hold a scheduled or sending campaign."""
        next_state(self.state, Action.PAUSE, self.paused_from)
        self._paused(previous=self.state.value, comment=clean_comment(comment))

    @event("Paused")
    def _paused(self, previous: str, comment: str | None) -> None:
        self.paused_from = State(previous)
        self.state = State.PAUSED

    def resume(self, comment: str | None = None) -> None:
        """Continue where the campaign was paused."""
        target = next_state(self.state, Action.RESUME, self.paused_from)
        self._resumed(state=target.value, comment=clean_comment(comment))

    @event("Resumed")
    def _resumed(self, state: str, comment: str | None) -> None:
        self.state = State(state)
        self.paused_from = None

    def cancel(self, comment: str | None = None) -> None:
        """Stop the campaign for good (a partly sent campaign stays partly sent)."""
        next_state(self.state, Action.CANCEL, self.paused_from)
        self._cancelled(previous=self.state.value, comment=clean_comment(comment))

    @event("Cancelled")
    def _cancelled(self, previous: str, comment: str | None) -> None:
        self.state = State.CANCELLED
        self.paused_from = None

    def start_sending(self, comment: str | None = None) -> None:
        """Delivery has begun."""
        next_state(self.state, Action.START_SENDING, self.paused_from)
        self._sending_started(comment=clean_comment(comment))

    @event("SendingStarted")
    def _sending_started(self, comment: str | None) -> None:
        self.state = State.SENDING

    def mark_sent(self, comment: str | None = None) -> None:
        """Delivery has finished."""
        next_state(self.state, Action.MARK_SENT, self.paused_from)
        self._sent(comment=clean_comment(comment))

    @event("Sent")
    def _sent(self, comment: str | None) -> None:
        self.state = State.SENT

    def _enter(self, state: State) -> None:
        # Back to draft: the approval, the schedule and any pause are void.
        self.state = state
        self.approval = None
        self.scheduled_at = None
        self.plan = None
        self.paused_from = None
