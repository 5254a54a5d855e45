"""Campaign endpoints: create and edit (each content change a new version), versions, diffs, restore, review trail,
and the workflow transitions.

Roles: editors (and admins) write content and submit; approvers (and admins) approve and request changes;
editors and approvers schedule, pause, resume and cancel; every role reads. An illegal transition is a 409
whose ``details.allowed`` lists the actions possible now; blocking validation problems are a 422 listing them;
an approval by an author of the version (four-eyes) or without an approving role is a 403.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody, QueryParameter

from domain.api_key import Role
from domain.campaign_workflow import State
from domain.errors import Invalid, NotFound
from domain.events import because
from domain.send_schedule import QuietHours, ScheduleKind
from domain.send_schedule import Schedule as SendSchedule
from interfaces.bootstrap import Container
from interfaces.http.auth import ANY_ROLE, Principal, require
from interfaces.http.errors import documented
from interfaces.http.schemas.campaigns import (
    Approval,
    CampaignCreate,
    CampaignOut,
    CampaignSummary,
    CampaignUpdate,
    Diff,
    FieldDiff,
    Review,
    Schedule,
    Settings,
    Transition,
    Version,
    VersionSummary,
)
from projections.campaigns import CampaignRow, VersionRow, get_campaign, get_version, list_campaigns, reviews, versions

EDITORS = require(Role.EDITOR)
APPROVERS = require(Role.APPROVER)
OPERATORS = require(Role.EDITOR, Role.APPROVER)
_ERRORS = (401, 403, 429)
_TRANSITION_ERRORS = documented(400, 404, 409, 415, 422, *_ERRORS)
# "state" is a name Litestar reserves for handler arguments.
StateFilter = Annotated[State | None, QueryParameter(name="state")]
DIFFED = ("subject", "preheader", "html", "text", "template_id", "template_version")


def _row(container: Container, campaign_id: UUID) -> CampaignRow:
    row = get_campaign(container.db, campaign_id)
    if row is None:
        raise NotFound(f"campaign {campaign_id} not found")
    return row


def _version_row(container: Container, campaign_id: UUID, number: int) -> VersionRow:
    row = get_version(container.db, campaign_id, number)
    if row is None:
        _row(container, campaign_id)
        raise NotFound(f"campaign {campaign_id} has no version {number}")
    return row


def _version(v: VersionRow) -> Version:
    return Version(v.version, v.subject, v.preheader, v.html, v.text, v.template_id, v.template_version,
                   v.content_hash, v.author, v.created_at, v.restored_from)  # fmt: skip


def _out(container: Container, row: CampaignRow) -> CampaignOut:
    content = _version(_version_row(container, row.id, row.current_version))
    return CampaignOut(
        row.id, row.name, row.notes, row.state, [a.value for a in row.allowed], row.paused_from,
        Settings(**row.settings), content, row.approved_version, row.approved_by, row.approved_at, row.scheduled_at,
        row.created_at, row.created_by, row.updated_at, row.plan,
    )  # fmt: skip


def _settled(container: Container, campaign_id: UUID) -> CampaignOut:
    container.settle()
    return _out(container, _row(container, campaign_id))


def _transition(container: Container, campaign_id: UUID, reason: str | None, command: Callable[[], Any]) -> CampaignOut:
    with because(reason):
        command()
    return _settled(container, campaign_id)


def _lines(value: Any) -> list[str]:
    return [] if value is None else str(value).splitlines()


def diff(a: VersionRow, b: VersionRow) -> list[FieldDiff]:
    """A unified diff per content field that differs between ``a`` and ``b``."""
    changes = []
    for field in DIFFED:
        old, new = getattr(a, field), getattr(b, field)
        if old != new:
            lines = difflib.unified_diff(_lines(old), _lines(new), f"v{a.version}/{field}", f"v{b.version}/{field}",
                                         lineterm="")  # fmt: skip
            changes.append(FieldDiff(field, "\n".join(lines)))
    return changes


def send_plan(data: Schedule) -> SendSchedule:
    """The domain's plan for a schedule request (validated when the campaign is scheduled)."""
    kind = ScheduleKind(data.kind) if data.kind else ScheduleKind.AT
    if kind is ScheduleKind.AT and data.scheduled_at is None:
        raise Invalid("scheduled_at is required", field="scheduled_at")
    quiet = QuietHours(data.quiet_hours.start, data.quiet_hours.end) if data.quiet_hours else None
    return SendSchedule(kind, at=data.scheduled_at, wall=data.wall, zone=data.zone, rrule=data.rrule, quiet_hours=quiet)


class CampaignsController(Controller):
    """Campaigns, their content versions and their review workflow."""

    path = "/campaigns"
    tags = ["campaigns"]

    @post("/", operation_id="createCampaign", guards=[EDITORS], sync_to_thread=True,
          responses=documented(400, 415, 422, *_ERRORS))  # fmt: skip
    def create(self, data: JSONBody[CampaignCreate], container: NamedDependency[Container]) -> CampaignOut:
        """Save a new draft; its content is version 1."""
        with because(data.reason):
            campaign = container.campaigns.create(data.name, {k: v for k, v in data.values().items() if k != "name"})
        return _settled(container, campaign.id)

    @get("/", operation_id="listCampaigns", guards=[ANY_ROLE], sync_to_thread=True, responses=documented(400, *_ERRORS))
    def list(self, container: NamedDependency[Container], in_state: StateFilter = None) -> list[CampaignSummary]:
        """Campaigns, newest first; ``state`` filters."""
        return [
            CampaignSummary(r.id, r.name, r.state, r.current_version, r.approved_version, r.scheduled_at, r.created_at,
                            r.updated_at)
            for r in list_campaigns(container.db, in_state.value if in_state else None)
        ]  # fmt: skip

    @get("/{campaign_id:uuid}", operation_id="getCampaign", guards=[ANY_ROLE], sync_to_thread=True,
         responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def read(self, campaign_id: FromPath[UUID], container: NamedDependency[Container]) -> CampaignOut:
        """One campaign with its current content and the actions possible now."""
        return _out(container, _row(container, campaign_id))

    @patch("/{campaign_id:uuid}", operation_id="updateCampaign", guards=[EDITORS], sync_to_thread=True,
           responses=documented(400, 404, 409, 415, 422, *_ERRORS))  # fmt: skip
    def update(
        self, campaign_id: FromPath[UUID], data: JSONBody[CampaignUpdate], container: NamedDependency[Container]
    ) -> CampaignOut:
        """Change fields; content or sending changes after submission return the campaign to draft."""
        command = lambda: container.campaigns.update(campaign_id, data.values())  # noqa: E731
        return _transition(container, campaign_id, data.reason, command)

    @get("/{campaign_id:uuid}/versions", operation_id="listCampaignVersions", guards=[ANY_ROLE], sync_to_thread=True,
         responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def versions(self, campaign_id: FromPath[UUID], container: NamedDependency[Container]) -> list[VersionSummary]:
        """Every content version, oldest first."""
        _row(container, campaign_id)
        rows = versions(container.db, campaign_id)
        return [
            VersionSummary(v.version, v.subject, v.content_hash, v.author, v.created_at, v.restored_from) for v in rows
        ]

    @get("/{campaign_id:uuid}/versions/{version:int}", operation_id="getCampaignVersion", guards=[ANY_ROLE],
         sync_to_thread=True, responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def version(
        self, campaign_id: FromPath[UUID], version: FromPath[int], container: NamedDependency[Container]
    ) -> Version:
        """One content version, in full."""
        return _version(_version_row(container, campaign_id, version))

    @get("/{campaign_id:uuid}/versions/{a:int}/diff/{b:int}", operation_id="diffCampaignVersions", guards=[ANY_ROLE],
         sync_to_thread=True, responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def diff(
        self, campaign_id: FromPath[UUID], a: FromPath[int], b: FromPath[int], container: NamedDependency[Container]
    ) -> Diff:
        """A unified diff per changed content field, from version ``a`` to version ``b``."""
        old, new = _version_row(container, campaign_id, a), _version_row(container, campaign_id, b)
        return Diff(campaign_id, a, b, diff(old, new))

    @post("/{campaign_id:uuid}/versions/{version:int}/restore", operation_id="restoreCampaignVersion",
          guards=[EDITORS], status_code=200, sync_to_thread=True, responses=_TRANSITION_ERRORS)  # fmt: skip
    def restore(
        self, campaign_id: FromPath[UUID], version: FromPath[int], container: NamedDependency[Container],
        data: JSONBody[Transition | None] = None,
    ) -> CampaignOut:  # fmt: skip
        """Save an old version's content again as the newest version (a draft)."""
        command = lambda: container.campaigns.restore(campaign_id, version)  # noqa: E731
        return _transition(container, campaign_id, data.reason if data else None, command)

    @get("/{campaign_id:uuid}/reviews", operation_id="listCampaignReviews", guards=[ANY_ROLE], sync_to_thread=True,
         responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def reviews(self, campaign_id: FromPath[UUID], container: NamedDependency[Container]) -> list[Review]:
        """Who submitted, approved or requested changes on which version, when (and edits that dropped a review)."""
        _row(container, campaign_id)
        return [
            Review(r.action, r.version, r.actor, r.role, r.comment, r.reason, r.at)
            for r in reviews(container.db, campaign_id)
        ]


def _commented(action: str, operation_id: str, guard: Any, summary: str) -> HTTPRouteHandler:
    """A transition whose body is only ``{comment?, reason?}``: ``POST /{action}`` (dashes for underscores)
    calling ``Campaigns.<action>(campaign_id, comment)``."""

    def handler(
        self: Controller,
        campaign_id: FromPath[UUID],
        container: NamedDependency[Container],
        data: JSONBody[Transition | None] = None,
    ) -> CampaignOut:
        body = data or Transition()
        command = getattr(container.campaigns, action)
        return _transition(container, campaign_id, body.reason, lambda: command(campaign_id, body.comment))

    handler.__name__ = handler.__qualname__ = action
    route = post(f"/{action.replace('_', '-')}", operation_id=operation_id, guards=[guard], status_code=200,
                 sync_to_thread=True, responses=_TRANSITION_ERRORS, description=summary)  # fmt: skip
    return route(handler)


class CampaignTransitionsController(Controller):
    """The workflow: submit, approve, request changes, schedule, pause, resume, cancel."""

    path = "/campaigns/{campaign_id:uuid}"
    tags = ["campaigns"]

    submit = _commented(
        "submit",
        "submitCampaign",
        EDITORS,
        "Validate and ask for review (422 with ``details.problems`` when something blocks it).",
    )

    @post("/approve", operation_id="approveCampaign", guards=[APPROVERS], status_code=200, sync_to_thread=True,
          responses=_TRANSITION_ERRORS)  # fmt: skip
    def approve(
        self, campaign_id: FromPath[UUID], container: NamedDependency[Container], request: Request[Principal, Any, Any],
        data: JSONBody[Approval | None] = None,
    ) -> CampaignOut:  # fmt: skip
        """Approve the version under review; an author of that version may not (403, four-eyes)."""
        data, role = data or Approval(), request.user.role.value
        command = lambda: container.campaigns.approve(campaign_id, role, data.version, data.comment)  # noqa: E731
        return _transition(container, campaign_id, data.reason, command)

    request_changes = _commented(
        "request_changes",
        "requestCampaignChanges",
        APPROVERS,
        "Send the campaign back to draft; ``comment`` (required) says what to change.",
    )

    @post("/schedule", operation_id="scheduleCampaign", guards=[OPERATORS], status_code=200, sync_to_thread=True,
          responses=_TRANSITION_ERRORS)  # fmt: skip
    def schedule(
        self, campaign_id: FromPath[UUID], data: JSONBody[Schedule], container: NamedDependency[Container]
    ) -> CampaignOut:
        """Plan an approved campaign's send: at an instant, now, at a local time per recipient, or recurring."""
        plan = send_plan(data)
        command = lambda: container.campaigns.schedule(campaign_id, plan, data.comment)  # noqa: E731
        return _transition(container, campaign_id, data.reason, command)

    pause = _commented("pause", "pauseCampaign", OPERATORS, "Hold a scheduled or sending campaign.")
    resume = _commented("resume", "resumeCampaign", OPERATORS, "Continue where the campaign was paused.")
    cancel = _commented("cancel", "cancelCampaign", OPERATORS, "Stop the campaign for good.")
