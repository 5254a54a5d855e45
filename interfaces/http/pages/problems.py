"""Why a contact page cannot do what its link asks, as a friendly page with the right status."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from litestar import Request, Response
from litestar.exceptions import HTTPException

from domain.contact import Contact
from domain.errors import DomainError, NotFound
from domain.link_tokens import BadLinkToken, ExpiredLinkToken, LinkClaims, Purpose
from interfaces.bootstrap import Container
from interfaces.http.errors import status_of
from interfaces.http.pages.render import page
from interfaces.link_keys import links_of

log = logging.getLogger("tidings.http")


@dataclass(frozen=True)
class Problem:
    """What the page says, and its status."""

    status: int
    title: str
    message: str
    advice: str


BAD_LINK = Problem(
    400,
    "This link does not work",
    "The link is incomplete or has been changed.",
    "Open it again from the email, or copy the whole link: it may have been cut in two.",
)
EXPIRED_LINK = Problem(
    410,
    "This link has expired",
    "Links in our emails stop working after a while, to protect you.",
    "Use the link in a more recent email from us.",
)
UNKNOWN_CONTACT = Problem(
    404,
    "We could not find your subscription",
    "The address this link was made for is no longer on our list.",
    "There is nothing to change: we will not write to it.",
)
CROSS_SITE = Problem(
    403,
    "Your changes were not saved",
    "The form was sent from another website, so we did not act on it.",
    "Open the link from the email again and save your choices there.",
)
UNAVAILABLE = Problem(
    503,
    "Please try again in a moment",
    "We could not reach our records just now; nothing was changed.",
    "Reload this page in a minute.",
)
BROKEN = Problem(
    500,
    "Something went wrong on our side",
    "Nothing was changed.",
    "Please try again later.",
)


class PageProblem(Exception):
    """Raised by a page handler to answer with a problem page instead."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.title)
        self.problem = problem


def problem_page(problem: Problem, headers: dict[str, str] | None = None) -> Response[str]:
    """The problem as an HTML page."""
    response = page("link_problem.html", problem.status, title=problem.title, message=problem.message,
                    advice=problem.advice)  # fmt: skip
    response.headers.update(headers or {})
    return response


def open_link(container: Container, token: str, purpose: Purpose, now: datetime) -> tuple[LinkClaims, Contact]:
    """The verified claims of ``token`` and the contact it names; else a PageProblem (400, 410 or 404)."""
    try:
        claims = links_of(container).keys.verify(token, purpose, now)
    except ExpiredLinkToken:
        raise PageProblem(EXPIRED_LINK) from None
    except BadLinkToken:
        raise PageProblem(BAD_LINK) from None
    try:
        # The event store, not a read model: a link sent right after the contact was created must work.
        return claims, container.contacts.get(claims.contact_id)
    except NotFound:
        raise PageProblem(UNKNOWN_CONTACT) from None


def is_cross_site(headers: Any, public_url: str) -> bool:
    """Whether a browser says this form was submitted from another site (Fetch metadata, else Origin)."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = headers.get("origin")
    # Our pages send no referrer, so a browser without Fetch metadata may send "Origin: null" for our own form.
    if origin in (None, "null"):
        return False
    host = headers.get("host", "")
    return origin != _origin(public_url) and origin.split("://", 1)[-1] != host


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


CONFLICT = Problem(
    409,
    "Your changes were not saved",
    "Something changed while you were choosing (a topic may have been retired).",
    "Open the link from the email again and save your choices there.",
)
REJECTED = Problem(400, "We could not read your request", "Nothing was changed.", "Open the link from the email again.")


def _on_problem(_: Request[Any, Any, Any], exc: PageProblem) -> Response[str]:
    return problem_page(exc.problem)


def _on_domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[str]:
    return problem_page(CONFLICT if status_of(exc) == 409 else REJECTED)


def _on_http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[str]:
    problem = REJECTED if exc.status_code < 500 else BROKEN
    return problem_page(Problem(exc.status_code, problem.title, problem.message, problem.advice), exc.headers)


def _on_storage_down(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    log.error("storage unavailable", extra={"error": type(exc).__name__, "path": request.url.path})
    return problem_page(UNAVAILABLE, {"Retry-After": "5"})


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    log.exception("unhandled error", extra={"path": request.url.path}, exc_info=exc)
    return problem_page(BROKEN)


def page_exception_handlers() -> dict[Any, Any]:
    """Contact pages answer every failure with a page, never JSON or a trace (the API keeps its JSON errors)."""
    return {
        PageProblem: _on_problem,
        DomainError: _on_domain_error,
        HTTPException: _on_http_error,
        OperationalError: _on_storage_down,
        InterfaceError: _on_storage_down,
        Exception: _on_unexpected,
    }
