"""Campaign and template use cases over the real store (SQLite and PostgreSQL): references, pinning, validation."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from application.campaigns import Campaigns, UnknownReference
from domain.campaign import Campaign
from domain.campaign_workflow import ApproverIsAuthor, Problem, State, SubmissionBlocked
from domain.errors import Invalid, NotFound
from domain.events import caused_by
from interfaces.bootstrap import Container

LAYOUT = "<html><body>{{ content }}</body></html>"
EDITOR, APPROVER = "api_key:editor", "api_key:approver"


def references(container: Container) -> dict[str, Any]:
    """Everything a complete campaign refers to, created for real."""
    container.preferences.define_category("news", "News")
    connection = container.connections.connect(
        "Postmark", "postmark", {"basic_auth": {"username": "postmark", "password": "s3cret-pass"}}
    )
    segment = container.segments.define("Everyone", "", {"attribute": "plan", "op": "exists"})
    return {"category": "news", "esp_connection_id": connection.id, "include_segments": [segment.id],
            "from_address": "news@example.com"}  # fmt: skip


def complete(container: Container, **more: Any) -> Campaign:
    with caused_by(EDITOR):
        html = '<p>x</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>'
        return container.campaigns.create("Spring sale", {**references(container), "subject": "Hi", "html": html,
                                                          **more})  # fmt: skip


def test_a_campaign_round_trips_through_the_store(container: Container) -> None:
    created = complete(container, notes="for the spring")

    loaded = container.campaigns.get(created.id)

    assert loaded.versions == created.versions and loaded.settings == created.settings
    assert loaded.notes == "for the spring" and loaded.current.author == EDITOR


def test_naming_a_template_pins_its_newest_layout_version(container: Container) -> None:
    template = container.templates.create("Newsletter", LAYOUT)
    campaign = complete(container, template_id=template.id)
    container.templates.update(template.id, {"html": LAYOUT.replace("body", "main")})

    untouched = container.campaigns.get(campaign.id)
    with caused_by(EDITOR):
        repinned = container.campaigns.update(campaign.id, {"template_id": template.id})

    assert untouched.content.template_version == 1
    assert repinned.content.template_version == 2 and repinned.current.number == 2


@pytest.mark.parametrize("field", ["template_id", "esp_connection_id", "include_segments", "category"])
def test_references_to_nothing_are_refused(container: Container, field: str) -> None:
    campaign = complete(container)
    value: Any = "nope" if field == "category" else uuid4()

    with pytest.raises(UnknownReference) as refused:
        container.campaigns.update(campaign.id, {field: [value] if field == "include_segments" else value})

    assert refused.value.details["field"] == field


def test_unknown_fields_are_refused(container: Container) -> None:
    with pytest.raises(Invalid) as refused:
        container.campaigns.create("x", {"subjct": "typo"})

    assert refused.value.details == {"fields": ["subjct"]}


def test_the_default_validation_names_every_missing_field(container: Container) -> None:
    campaign = container.campaigns.create("Empty", {})

    with pytest.raises(SubmissionBlocked) as refused:
        container.campaigns.submit(campaign.id)

    fields = [p["field"] for p in refused.value.details["problems"]]
    assert fields == ["subject", "html", "category", "esp_connection_id", "from_address", "include_segments"]
    assert container.campaigns.get(campaign.id).state is State.DRAFT


def test_an_injected_validator_decides_submission_and_its_warnings_are_kept(container: Container) -> None:
    plain_http = Problem("http_link", "a link uses plain http", severity="warning", field="html", line=1, column=10)

    def lint(campaign: Campaign) -> list[Problem]:
        if "unsubscribe" not in campaign.content.html:
            return [Problem("no_unsubscribe", "no unsubscribe link", field="html"), plain_http]
        return [plain_http]

    campaigns = Campaigns(container.store, validate=lint)
    campaign = campaigns.create("Lint me", {"html": "<p>x</p>"})

    with pytest.raises(SubmissionBlocked):
        campaigns.submit(campaign.id)
    campaigns.update(campaign.id, {"html": "<a href='{{ unsubscribe_url }}'>unsubscribe</a>"})
    campaigns.submit(campaign.id)

    assert campaigns.get(campaign.id).state is State.IN_REVIEW
    [submitted] = [e for e in container.history.entries(campaign.id) if e.type == "Campaign.Submitted"]
    assert submitted.payload["warnings"] == [plain_http]


def test_four_eyes_over_the_store(container: Container) -> None:
    campaign = complete(container)
    container.campaigns.submit(campaign.id)

    with caused_by(EDITOR), pytest.raises(ApproverIsAuthor):
        container.campaigns.approve(campaign.id, "admin")
    with caused_by(APPROVER):
        approved = container.campaigns.approve(campaign.id, "approver", version=1, comment="ok")

    assert approved.approval is not None and approved.approval.approver == APPROVER


def test_unknown_campaigns_are_not_found(container: Container) -> None:
    with pytest.raises(NotFound):
        container.campaigns.submit(uuid4())
