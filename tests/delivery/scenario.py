"""Build a real, approved, scheduled campaign over the applications (no shortcuts into the store)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from application.contacts import ContactInput
from domain.campaign import Campaign
from domain.events import caused_by
from domain.send_schedule import Schedule
from domain.sending_settings import SendingSettings
from interfaces.bootstrap import Container
from interfaces.delivery.worker import Member
from projections.contacts import list_contacts

EDITOR, APPROVER = "api_key:editor", "api_key:approver"
HTML = (
    '<p>Hello {{ contact.attributes.first_name | default: "friend" }}</p>'
    '<a href="{{ unsubscribe_url }}">Unsubscribe</a>'
)


@dataclass
class Scenario:
    """A campaign ready to send and the contacts it targets."""

    campaign_id: UUID
    contacts: dict[str, UUID]
    connection_id: UUID


def every_contact(container: Container, campaign: Campaign, now: datetime) -> tuple[Iterable[Member], dict[str, int]]:
    """A stand-in audience: every contact (targeting has its own tests)."""
    del campaign, now
    container.settle()
    members: list[Member] = []
    after = None
    while page := list_contacts(container.db, after=after, limit=500):
        members += [Member(c.id, c.email, c.timezone) for c in page]
        after = page[-1].id
    return members, {}


def scheduled_campaign(
    container: Container,
    emails: list[str],
    at: datetime,
    *,
    transport: str = "capture",
    settings: Any = None,
    rate: float = 1000.0,
    zones: dict[str, str] | None = None,
    plan: Schedule | None = None,
) -> Scenario:
    """Contacts, a category, a capture connection, and a campaign approved and scheduled for ``at``."""
    contacts = {}
    for i, email in enumerate(emails):
        zone = (zones or {}).get(email)
        contact, _ = container.contacts.upsert(ContactInput(email, {"first_name": f"N{i}"}, timezone=zone))
        contacts[email] = contact.id
    container.preferences.define_category("news", "News")
    sending = SendingSettings(("example.com",), rate, 4, transport, settings or {})
    connection = container.connections.connect(
        "Outbox", "postmark", {"basic_auth": {"username": "pm", "password": "pm-secret-1"}}, sending
    )
    segment = container.segments.define("Everyone", "", {"attribute": "first_name", "op": "exists"})
    fields = {
        "category": "news", "esp_connection_id": connection.id, "include_segments": [segment.id],
        "from_address": "news@example.com", "from_name": "News", "subject": "Hi {{ contact.attributes.first_name }}",
        "html": HTML,
    }  # fmt: skip
    container.settle()  # the linter reads which attributes contacts have
    with caused_by(EDITOR):
        campaign = container.campaigns.create("Spring", fields)
        container.campaigns.submit(campaign.id)
    with caused_by(APPROVER):
        container.campaigns.approve(campaign.id, "approver")
        container.campaigns.schedule(campaign.id, plan or at)
    container.settle()
    return Scenario(campaign.id, contacts, connection.id)
