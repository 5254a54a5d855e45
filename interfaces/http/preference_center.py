"""The preference center: ``GET /preferences/{token}`` shows a contact's choices, ``POST`` saves them.

The token in the path is the capability (signed, expiring, never the address), so there is no session and
no cookie to forge a request with. As defence in depth against a page elsewhere submitting the form with a
leaked link, a POST that the browser marks as cross-site (``Sec-Fetch-Site``, else a foreign ``Origin``)
is refused with 403 and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from litestar import Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.params import FromPath

from domain.events import caused_by, contact_actor
from domain.link_tokens import Purpose
from interfaces.bootstrap import Container
from interfaces.http.pages.preference_form import (
    MAX_FORM_BYTES,
    MAX_PAUSE,
    Category,
    Choices,
    describe_changes,
    frequency_options,
    read_submission,
    zone_of,
)
from interfaces.http.pages.preference_state import active_categories, current_choices, save_choices
from interfaces.http.pages.problems import CROSS_SITE, PageProblem, is_cross_site, open_link
from interfaces.http.pages.render import page
from interfaces.logs import request_id_var

TITLE = "Your email preferences"


@get("/preferences/{token:str}", include_in_schema=False, sync_to_thread=True)
def preference_center(token: FromPath[str], request: Request) -> Response[str]:  # type: ignore[type-arg]
    """The contact's preferences as a form."""
    container: Container = request.app.state.container
    now = datetime.now(UTC)
    claims, contact = open_link(container, token, Purpose.PREFERENCES, now)
    zone = zone_of(contact.timezone)
    categories = active_categories(container)
    return _form(
        categories, current_choices(container, claims.contact_id, categories, zone, now), now.astimezone(zone).date()
    )


@post("/preferences/{token:str}", include_in_schema=False, status_code=200)
async def save_preferences(token: FromPath[str], request: Request) -> Response[str]:  # type: ignore[type-arg]
    """Save the submitted form as the contact's own change, then show what changed."""
    container: Container = request.app.state.container
    if is_cross_site(request.headers, container.settings.public_url):
        raise PageProblem(CROSS_SITE)
    body = await request.body()
    return await sync_to_thread(_save, container, token, body[: MAX_FORM_BYTES + 1], request_id_var.get())


def _save(container: Container, token: str, body: bytes, request_id: str | None) -> Response[str]:
    now = datetime.now(UTC)
    claims, contact = open_link(container, token, Purpose.PREFERENCES, now)
    zone, categories = zone_of(contact.timezone), active_categories(container)
    before = current_choices(container, claims.contact_id, categories, zone, now)
    today = now.astimezone(zone).date()
    submission = read_submission(body, categories, before, today)
    if submission.errors or len(body) > MAX_FORM_BYTES:
        errors = submission.errors or ["The form was too large to read."]
        return _form(categories, submission.choices, today, errors, status=422)
    with caused_by(contact_actor(claims.contact_id), request_id, "preference center"):
        changed = save_choices(container, claims.contact_id, before, submission.choices, zone)
    if changed:
        container.settle()
    changes = describe_changes(before, submission.choices, categories)
    return page("preferences_saved.html", title="Preferences saved", changes=changes)


def _form(
    categories: list[Category], choices: Choices, today: date, errors: list[str] | None = None, status: int = 200
) -> Response[str]:
    shown = [{**vars(c), "checked": choices.subscribed.get(c.key, c.default_subscribed)} for c in categories]
    return page(
        "preferences.html",
        status,
        title=TITLE,
        errors=errors or [],
        categories=shown,
        frequencies=frequency_options(choices.frequency),
        paused_until=choices.pause_until.isoformat() if choices.pause_until else "",
        earliest_pause=(today + timedelta(days=1)).isoformat(),
        latest_pause=(today + MAX_PAUSE).isoformat(),
        opted_out=choices.opted_out,
    )
