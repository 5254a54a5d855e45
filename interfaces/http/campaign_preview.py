"""``POST /api/v1/campaigns/{id}/preview``: a content version rendered for a stored contact or for sample data.

The answer is JSON (subject, HTML, text, headers) or, with ``Accept: text/html``, the rendered HTML itself.
Either way it carries a Content-Security-Policy that lets the HTML show its inline styles and images and
nothing else: no script, no form, no frame, sandboxed, so content under review cannot act in the admin's
browser. Sample data is checked by the contact rules; its links are signed for the contact that address would be.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from domain.contact_fields import clean_attribute_changes, clean_email, clean_locale, clean_timezone
from domain.email_address import contact_id_for
from domain.errors import Invalid, NotFound
from interfaces.bootstrap import Container
from interfaces.http.auth import ANY_ROLE
from interfaces.http.errors import documented
from interfaces.link_keys import links_of
from interfaces.rendering import Layout, Recipient, Rendered, render
from projections.campaigns import get_campaign, get_version
from projections.contacts import get_contact
from projections.templates import layout

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; font-src https:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class Sample(msgspec.Struct, forbid_unknown_fields=True):
    """Contact fields to preview with, checked like a contact's."""

    email: str
    attributes: dict[str, Any] = {}
    timezone: str | None = None
    locale: str | None = None


class PreviewRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Whom to render for (a stored contact or sample data) and which version (default: the current one)."""

    contact_id: UUID | None = None
    sample: Sample | None = None
    version: Annotated[int, msgspec.Meta(ge=1)] | None = None


class Preview(msgspec.Struct):
    """The rendered message."""

    campaign_id: UUID
    version: int
    subject: str
    html: str
    text: str
    headers: dict[str, str]


def _recipient(container: Container, data: PreviewRequest) -> Recipient:
    if (data.contact_id is None) == (data.sample is None):
        raise Invalid("give either contact_id or sample", field="contact_id")
    if data.sample is not None:
        email = clean_email(data.sample.email)
        attributes = {k: v for k, v in clean_attribute_changes(data.sample.attributes).items() if v is not None}
        zone, locale = clean_timezone(data.sample.timezone), clean_locale(data.sample.locale)
        return Recipient(contact_id_for(email), email, attributes, zone, locale)
    assert data.contact_id is not None
    contact = get_contact(container.db, data.contact_id)
    if contact is None:
        raise NotFound(f"contact {data.contact_id} not found")
    return Recipient(contact.id, contact.email, contact.attributes, contact.timezone, contact.locale)


def preview(container: Container, campaign_id: UUID, data: PreviewRequest) -> tuple[int, Rendered]:
    """The version's message for the request's recipient (``RenderError``: 422 naming part and variable)."""
    row = get_campaign(container.db, campaign_id)
    if row is None:
        raise NotFound(f"campaign {campaign_id} not found")
    number = data.version or row.current_version
    v = get_version(container.db, campaign_id, number)
    if v is None:
        raise NotFound(f"campaign {campaign_id} has no version {number}")
    pinned = None
    if v.template_id is not None and v.template_version is not None:
        found = layout(container.db, v.template_id, v.template_version)
        if found is None:
            raise NotFound(f"template {v.template_id} has no layout version {v.template_version}")
        pinned = Layout(found.html, found.text)
    content = Content(v.subject, v.preheader, v.html, v.text, v.template_id, v.template_version)
    s = row.settings
    settings = CampaignSettings(category=s["category"], from_name=s["from_name"], from_address=s["from_address"],
                                reply_to=s["reply_to"])  # fmt: skip
    now = datetime.now(UTC)
    rendered = render(content, pinned, _recipient(container, data), settings=settings, links=links_of(container),
                      now=now, mailto=container.settings.unsubscribe_mailto)  # fmt: skip
    return v.version, rendered


class CampaignPreviewController(Controller):
    """Rendered previews of campaign content."""

    path = "/campaigns/{campaign_id:uuid}/preview"
    tags = ["campaigns"]

    @post("/", operation_id="previewCampaign", guards=[ANY_ROLE], status_code=200, sync_to_thread=True,
          responses=documented(400, 404, 415, 422, 401, 403, 429))  # fmt: skip
    def preview(
        self, campaign_id: FromPath[UUID], data: JSONBody[PreviewRequest], container: NamedDependency[Container],
        request: Request[Any, Any, Any],
    ) -> Response[Preview | str]:  # fmt: skip
        """Render a content version for a contact or sample data; ``Accept: text/html`` answers the HTML alone."""
        version, out = preview(container, campaign_id, data)
        if request.accept.best_match(["application/json", "text/html"]) == "text/html":
            return Response(out.html, media_type="text/html; charset=utf-8", headers=HEADERS)
        body = Preview(campaign_id, version, out.subject, out.html, out.text, out.headers)
        return Response(body, headers=HEADERS)
