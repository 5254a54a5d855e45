"""The campaigns and templates read models follow every event, match the aggregates, and rebuild to the same rows,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from application.campaigns import Campaigns
from domain.events import caused_by
from interfaces.bootstrap import Container
from projections.campaigns import REVIEWS, TABLE, VERSIONS, CampaignsProjection, get_campaign, get_version, reviews
from projections.campaigns import versions as list_versions
from projections.templates import TemplatesProjection, get_template, layout, layouts

ANN, BOB = "api_key:ann", "api_key:bob"
LAYOUT = "<main>{{ content }}</main>"
LATER = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)


def snapshot(container: Container, *tables: str) -> list[list[dict[str, Any]]]:
    return [container.db.query(f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables]


def a_reviewed_campaign(container: Container) -> Any:
    """Created by Ann, changes requested by Bob, edited, approved by Bob, scheduled, paused, edited back to draft."""
    template = container.templates.create("Plain", LAYOUT)
    c = Campaigns(container.store, validate=lambda _: [])  # references are not this test's subject
    with caused_by(ANN):
        campaign = c.create("Launch", {"subject": "Hi", "html": "<p>1</p>", "template_id": template.id})
    c.submit(campaign.id)
    with caused_by(BOB, reason="tone"):
        c.request_changes(campaign.id, "warmer, please")
    with caused_by(ANN):
        c.update(campaign.id, {"subject": "Hello!", "notes": "v2 after review"})
        c.submit(campaign.id, "warmer now")
    with caused_by(BOB):
        c.approve(campaign.id, "approver", version=2, comment="ship it")
    c.schedule(campaign.id, LATER)
    c.pause(campaign.id, "hold")
    with caused_by(ANN):
        c.update(campaign.id, {"preheader": "Spring is here"})
    return campaign


def test_rows_follow_the_campaign(container: Container) -> None:
    campaign = a_reviewed_campaign(container)
    container.runner.catch_up_all()

    row = get_campaign(container.db, campaign.id)
    live = container.campaigns.get(campaign.id)

    assert row is not None
    assert (row.state, row.current_version, row.notes, row.paused_from) == ("draft", 3, "v2 after review", None)
    assert (row.approved_version, row.approved_by, row.scheduled_at) == (None, None, None)
    assert [a.value for a in row.allowed] == ["edit", "submit", "cancel"]
    stored = list_versions(container.db, campaign.id)
    assert [(v.version, v.subject, v.content_hash, v.author) for v in stored] == [
        (v.number, v.content.subject, v.content_hash, v.author) for v in live.versions
    ]
    third = get_version(container.db, campaign.id, 3)
    assert third is not None and third.preheader == "Spring is here" and third.template_version == 1


def test_the_review_trail_says_who_did_what_to_which_version(container: Container) -> None:
    campaign = a_reviewed_campaign(container)
    container.runner.catch_up_all()

    trail = [(r.action, r.version, r.actor, r.role, r.comment) for r in reviews(container.db, campaign.id)]

    assert trail == [
        ("submitted", 1, "system", None, None),
        ("changes_requested", 1, BOB, None, "warmer, please"),
        ("submitted", 2, ANN, None, "warmer now"),
        ("approved", 2, BOB, "approver", "ship it"),
        ("returned_to_draft", 2, ANN, None, None),
    ]
    assert reviews(container.db, campaign.id)[1].reason == "tone"


def test_templates_keep_every_layout(container: Container) -> None:
    template = container.templates.create("Plain", LAYOUT)
    container.templates.update(template.id, {"name": "Plainer", "text": "{{ content }}\n--"})
    container.runner.catch_up_all()

    row = get_template(container.db, template.id)

    assert row is not None and (row.name, row.layout_version, row.text) == ("Plainer", 2, "{{ content }}\n--")
    assert [(v.version, v.text) for v in layouts(container.db, template.id)] == [(1, None), (2, "{{ content }}\n--")]
    first = layout(container.db, template.id, 1)
    assert first is not None and first.html == LAYOUT


def test_rebuilt_read_models_equal_the_incremental_ones(container: Container) -> None:
    a_reviewed_campaign(container)
    container.runner.catch_up_all()
    live = snapshot(container, TABLE, VERSIONS, REVIEWS, "templates", "templates_versions")

    container.runner.rebuild(CampaignsProjection.name)
    container.runner.rebuild(TemplatesProjection.name)

    assert snapshot(container, TABLE, VERSIONS, REVIEWS, "templates", "templates_versions") == live
    assert all(live)
