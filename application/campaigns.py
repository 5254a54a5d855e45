"""Campaign use cases: create and edit (every content save a version), restore, and the review workflow.

Submission runs ``validate`` over the campaign and refuses on blocking problems. The composition root
injects the full linter; the default here checks only that the fields a send needs are filled in.
Roles are checked at the edge; ``approve`` passes the caller's role on because the domain rule reads it.
References (template, segments, ESP connection, preference category) are checked against the store when
they change, so a campaign never names something that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from application.base import TidingsApplication
from application.store import EventStoreResources
from domain.campaign import Campaign
from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from domain.campaign_workflow import Problem
from domain.errors import Invalid, NotFound
from domain.esp_connection import EspConnection
from domain.preference_category import PreferenceCategory, category_id, clean_key
from domain.segment import Segment
from domain.send_schedule import Schedule, ScheduleKind, clean_schedule, occurrences
from domain.template import Template

Validate = Callable[[Campaign], list[Problem]]
# Refuses (raises ``Invalid``) a campaign whose audience is outside its size limits; the composition root
# injects one that counts the audience over the read models.
CheckAudience = Callable[[Campaign], None]

CONTENT_FIELDS = frozenset({"subject", "preheader", "html", "text", "template_id"})
SETTINGS_FIELDS = frozenset(f.name for f in fields(CampaignSettings))
FIELDS = CONTENT_FIELDS | SETTINGS_FIELDS | {"name", "notes"}


class UnknownReference(Invalid):
    """A campaign names a template, segment, ESP connection or category that does not exist."""

    code = "unknown_reference"


def required_fields(campaign: Campaign) -> list[Problem]:
    """The default validation: every field a send needs has a value."""
    settings, content = campaign.settings, campaign.content
    absent = {
        "subject": not content.subject,
        "html": not content.html,
        "category": settings.category is None,
        "esp_connection_id": settings.esp_connection_id is None,
        "from_address": settings.from_address is None,
        "include_segments": not settings.include_segments,
    }
    return [Problem("required", f"{name} is required to submit", field=name) for name, empty in absent.items() if empty]


class Campaigns(TidingsApplication):
    """Campaigns, their content versions and their workflow."""

    def __init__(
        self, store: EventStoreResources, validate: Validate = required_fields,
        check_audience: CheckAudience | None = None,
    ) -> None:  # fmt: skip
        super().__init__(store)
        self._validate = validate
        self._check_audience = check_audience or (lambda _campaign: None)

    def create(self, name: str, values: Mapping[str, Any]) -> Campaign:
        """A new draft; ``values`` may hold any campaign field (absent ones start empty)."""
        _refuse_unknown(values)
        content, settings = self._content(Content(), values), self._settings(CampaignSettings(), values)
        campaign = Campaign.create(uuid4(), name, settings, content, values.get("notes", ""))
        self.save(campaign)
        return campaign

    def get(self, campaign_id: UUID) -> Campaign:
        """The campaign's current state."""
        campaign: Campaign = self.load(campaign_id, Campaign)
        return campaign

    def update(self, campaign_id: UUID, changes: Mapping[str, Any]) -> Campaign:
        """Apply the given field changes in one save; content changes make one new version."""
        _refuse_unknown(changes)
        campaign = self.get(campaign_id)
        if "name" in changes:
            campaign.rename(changes["name"])
        if "notes" in changes:
            campaign.annotate(changes["notes"])
        if SETTINGS_FIELDS & set(changes):
            campaign.configure(self._settings(campaign.settings, changes))
        if CONTENT_FIELDS & set(changes):
            campaign.save_content(self._content(campaign.content, changes))
        self.save(campaign)
        return campaign

    def restore(self, campaign_id: UUID, number: int) -> Campaign:
        """Save version ``number``'s content again as the newest version."""
        return self._act(campaign_id, lambda c: c.restore(number))

    def submit(self, campaign_id: UUID, comment: str | None = None) -> Campaign:
        """Validate and ask for review; blocking problems refuse it."""
        return self._act(campaign_id, lambda c: c.submit(self._validate(c), comment))

    def approve(self, campaign_id: UUID, role: str, version: int | None = None, comment: str | None = None) -> Campaign:
        """Approve the version under review as the current actor, who holds ``role``."""
        return self._act(campaign_id, lambda c: c.approve(role, version, comment))

    def request_changes(self, campaign_id: UUID, comment: str | None) -> Campaign:
        """Send the campaign back to draft with a comment."""
        return self._act(campaign_id, lambda c: c.request_changes(comment))

    def schedule(
        self, campaign_id: UUID, plan: Schedule | datetime, comment: str | None = None, now: datetime | None = None
    ) -> Campaign:
        """Plan an approved campaign's send (or move it): an instant, or a full ``Schedule``."""
        now = now or datetime.now(UTC)
        schedule = plan if isinstance(plan, Schedule) else Schedule(ScheduleKind.AT, at=plan)
        clean_schedule(schedule, now)
        [first] = occurrences(schedule, now, 1)

        def command(campaign: Campaign) -> None:
            self._check_audience(campaign)
            campaign.schedule(first, comment, None if schedule.kind is ScheduleKind.AT else schedule.to_dict())

        return self._act(campaign_id, command)

    def next_run(self, campaign_id: UUID, after: datetime, comment: str | None = None) -> Campaign:
        """A run finished: plan the next occurrence of a recurring campaign, or mark the campaign sent."""
        campaign = self.get(campaign_id)
        plan = Schedule.from_dict(campaign.plan) if campaign.plan else None
        upcoming = occurrences(plan, after, 1) if plan and plan.kind is ScheduleKind.RECURRING else []
        if upcoming:
            campaign.next_run(upcoming[0], comment)
        else:
            campaign.mark_sent(comment)
        self.save(campaign)
        return campaign

    def pause(self, campaign_id: UUID, comment: str | None = None) -> Campaign:
        """Hold a scheduled or sending campaign."""
        return self._act(campaign_id, lambda c: c.pause(comment))

    def resume(self, campaign_id: UUID, comment: str | None = None) -> Campaign:
        """Continue a paused campaign."""
        return self._act(campaign_id, lambda c: c.resume(comment))

    def cancel(self, campaign_id: UUID, comment: str | None = None) -> Campaign:
        """Stop a campaign for good."""
        return self._act(campaign_id, lambda c: c.cancel(comment))

    def start_sending(self, campaign_id: UUID, comment: str | None = None) -> Campaign:
        """Record that delivery began."""
        return self._act(campaign_id, lambda c: c.start_sending(comment))

    def mark_sent(self, campaign_id: UUID, comment: str | None = None) -> Campaign:
        """Record that delivery finished."""
        return self._act(campaign_id, lambda c: c.mark_sent(comment))

    def _act(self, campaign_id: UUID, command: Callable[[Campaign], None]) -> Campaign:
        campaign = self.get(campaign_id)
        command(campaign)
        self.save(campaign)
        return campaign

    def _content(self, base: Content, values: Mapping[str, Any]) -> Content:
        changed = {k: v for k, v in values.items() if k in CONTENT_FIELDS}
        if "template_id" in changed:
            # Naming a template (again) pins its newest layout version.
            template_id = changed["template_id"]
            changed["template_version"] = None if template_id is None else self._template(template_id).layout_version
        return replace(base, **changed)

    def _settings(self, base: CampaignSettings, values: Mapping[str, Any]) -> CampaignSettings:
        changed = {k: v for k, v in values.items() if k in SETTINGS_FIELDS}
        if changed.get("category") is not None:
            self._exists("category", category_id(clean_key(changed["category"], "category")), PreferenceCategory)
        if changed.get("esp_connection_id") is not None:
            self._exists("esp_connection_id", changed["esp_connection_id"], EspConnection)
        for field in ("include_segments", "exclude_segments"):
            for segment_id in _ids(changed.get(field, ())):
                self._exists(field, segment_id, Segment)
        return replace(base, **changed)

    def _template(self, template_id: UUID) -> Template:
        template: Template = self._exists("template_id", template_id, Template)
        return template

    def _exists(self, field: str, aggregate_id: UUID, kind: type) -> Any:
        try:
            return self.load(aggregate_id, kind)
        except NotFound:
            message = f"{field} names no existing {kind.__name__}"
            raise UnknownReference(message, field=field, id=str(aggregate_id)) from None


def _refuse_unknown(values: Mapping[str, Any]) -> None:
    unknown = set(values) - FIELDS
    if unknown:
        raise Invalid("unknown campaign fields", fields=sorted(unknown))


def _ids(values: Iterable[UUID]) -> list[UUID]:
    return list(dict.fromkeys(values))
