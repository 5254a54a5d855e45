"""One-click unsubscribe (RFC 8058): ``GET /u/{token}`` asks, ``POST /u/{token}`` does it at once.

GET changes nothing, because link scanners and prefetchers follow links in mail; it shows a page with one
button. Any POST unsubscribes: the mailbox provider's ``List-Unsubscribe=One-Click`` body, our button's
form (which sends the same body), or a client that sends none. No cookies, no redirect, 200 every time
(idempotent). A cross-site POST is allowed here, unlike in the preference center: mail clients post from
wherever they run, and the only thing a POST can do is send less mail.
"""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.params import FromPath

from domain.events import caused_by, contact_actor
from domain.link_tokens import Purpose
from interfaces.bootstrap import Container
from interfaces.http.pages.preference_state import Scope, unsubscribe
from interfaces.http.pages.problems import open_link
from interfaces.http.pages.render import page
from interfaces.logs import request_id_var


@get("/u/{token:str}", include_in_schema=False, sync_to_thread=True)
def unsubscribe_page(token: FromPath[str], request: Request) -> Response[str]:  # type: ignore[type-arg]
    """The confirmation page: what the button will do, and the button."""
    container: Container = request.app.state.container
    claims, _ = open_link(container, token, Purpose.UNSUBSCRIBE, datetime.now(UTC))
    scope = Scope.of(container, claims.category)
    return page("unsubscribe.html", title="Unsubscribe", scope_sentence=scope.question)


@post("/u/{token:str}", include_in_schema=False, status_code=200)
async def unsubscribe_now(token: FromPath[str], request: Request) -> Response[str]:  # type: ignore[type-arg]
    """Unsubscribe the link's contact (from its category, or from everything) and say so."""
    container: Container = request.app.state.container
    return await sync_to_thread(_unsubscribe, container, token, request_id_var.get())


def _unsubscribe(container: Container, token: str, request_id: str | None) -> Response[str]:
    claims, _ = open_link(container, token, Purpose.UNSUBSCRIBE, datetime.now(UTC))
    scope = Scope.of(container, claims.category)
    with caused_by(contact_actor(claims.contact_id), request_id, "one-click unsubscribe"):
        changed = unsubscribe(container, claims.contact_id, scope)
    if changed:
        container.settle()  # read-your-writes for the API and segments, as every other command does
    return page("unsubscribed.html", title="You are unsubscribed", done_sentence=scope.done)
