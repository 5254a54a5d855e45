"""Re-subscribe confirmation (double opt-in) after a global opt-out.

``POST /api/v1/contacts/{id}/resubscribe-requests`` (editor+) mails the opted-out contact a signed link;
``GET /r/{token}`` explains and shows one button, ``POST /r/{token}`` opts the contact back in as their own
change. Only the contact's click opts in: staff can ask, never decide. GET changes nothing (link scanners
follow links in mail), and a POST the browser marks as cross-site is refused, since opting in means more
mail, unlike the one-click unsubscribe.

The request is checked (opted out, not asked within ten minutes), the mail sent, then the request recorded
as ``ResubscribeRequested`` with the message id: the record says a confirmation went out, so a send that
failed records nothing and may be retried at once. Two requests racing past the check can both send; the
window is one send long.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import msgspec
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Controller, Request, Response, Router, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from domain.api_key import Role
from domain.contact_preferences import ResubscribeTooSoon
from domain.events import caused_by, contact_actor
from domain.link_tokens import LIFETIME, Purpose
from domain.preference_sources import Source
from interfaces.bootstrap import Container
from interfaces.http.auth import require
from interfaces.http.errors import RateLimited, documented
from interfaces.http.pages.problems import CROSS_SITE, PageProblem, is_cross_site, open_link, page_exception_handlers
from interfaces.http.pages.render import page
from interfaces.link_keys import links_of
from interfaces.logs import request_id_var
from interfaces.system_mail import SystemMailUnavailable, SystemMessage, send_system_mail

SUBJECT = "Confirm your subscription"
_MAIL = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "pages" / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


class ResubscribeRequest(msgspec.Struct):
    """The confirmation email that went out, and until when its link works."""

    message_id: UUID
    expires_at: datetime


class ResubscribeRequestsController(Controller):
    """Ask an opted-out contact to confirm they want marketing email again (editor+: it mails them)."""

    path = "/contacts/{contact_id:uuid}/resubscribe-requests"
    tags = ["preferences"]
    guards = [require(Role.EDITOR)]

    @post("/", operation_id="requestResubscribe", status_code=202,
          responses=documented(400, 401, 403, 404, 409, 429, 503))  # fmt: skip
    async def create(self, contact_id: FromPath[UUID], container: NamedDependency[Container]) -> ResubscribeRequest:
        """Mail the confirmation link (valid 7 days); 409 unless opted out, 429 within 10 minutes of the last."""
        return await request_confirmation(container, contact_id, datetime.now(UTC))


async def request_confirmation(container: Container, contact_id: UUID, now: datetime) -> ResubscribeRequest:
    """Check, send the confirmation email, record it; the message id and the link's expiry."""
    contact = await sync_to_thread(container.contacts.get, contact_id)  # 404 for an unknown contact
    try:
        await sync_to_thread(container.preferences.check_resubscribe, contact_id, now)
    except ResubscribeTooSoon as exc:
        wait = str(exc.details["retry_after"])
        raise RateLimited(detail=exc.message, headers={"Retry-After": wait}, extra=exc.details) from None
    token = links_of(container).keys.sign(contact_id, Purpose.RESUBSCRIBE, now)
    expires_at = datetime.fromtimestamp(int((now + LIFETIME[Purpose.RESUBSCRIBE]).timestamp()), UTC)
    message = confirmation_email(contact_id, contact.email, f"{container.settings.public_url}/r/{token}", expires_at)
    try:
        result = await send_system_mail(container, message)
    except SystemMailUnavailable as exc:
        retry = str(max(1, int(exc.retry_after or 30)))
        raise HTTPException(status_code=503, detail=exc.reason, headers={"Retry-After": retry}) from None
    await sync_to_thread(container.preferences.request_resubscribe, contact_id, result.message_id, now)
    return ResubscribeRequest(result.message_id, expires_at)


def confirmation_email(contact_id: UUID, to: str, url: str, expires_at: datetime) -> SystemMessage:
    """The confirmation email: the signed link as a button (HTML) and as plain text."""
    context = {"subject": SUBJECT, "url": url, "expires": expires_at.strftime("%-d %B %Y, %H:%M UTC")}
    html = _MAIL.get_template("resubscribe_email.html").render(context)
    text = _MAIL.get_template("resubscribe_email.txt").render(context)
    return SystemMessage(contact_id, to, SUBJECT, html, text)


@get("/r/{token:str}", include_in_schema=False, sync_to_thread=True)
def resubscribe_page(token: FromPath[str], request: Request) -> Response[str]:  # type: ignore[type-arg]
    """What confirming does, and the button."""
    container: Container = request.app.state.container
    open_link(container, token, Purpose.RESUBSCRIBE, datetime.now(UTC))
    return page("resubscribe.html", title=SUBJECT)


@post("/r/{token:str}", include_in_schema=False, status_code=200)
async def resubscribe_now(token: FromPath[str], request: Request) -> Response[str]:  # type: ignore[type-arg]
    """Opt the link's contact back in as their own change (again: the same page, nothing recorded)."""
    container: Container = request.app.state.container
    if is_cross_site(request.headers, container.settings.public_url):
        raise PageProblem(CROSS_SITE)
    return await sync_to_thread(_resubscribe, container, token, request_id_var.get())


def _resubscribe(container: Container, token: str, request_id: str | None) -> Response[str]:
    claims, _ = open_link(container, token, Purpose.RESUBSCRIBE, datetime.now(UTC))
    with caused_by(contact_actor(claims.contact_id), request_id, "re-subscribe confirmation"):
        changed = container.preferences.opt_in(claims.contact_id, Source.CONTACT)
    if changed:
        container.settle()  # read-your-writes for the API and segments, as every other command does
    return page("resubscribed.html", title="You are subscribed again")


resubscribe_pages = Router(
    path="/", route_handlers=[resubscribe_page, resubscribe_now], exception_handlers=page_exception_handlers()
)
