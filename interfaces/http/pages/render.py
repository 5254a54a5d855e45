"""Renders the contact pages with the headers every one of them carries.

The stylesheet is inlined and allowed by its hash, so a page is one request, loads nothing else and runs
no script; links carry capabilities in their path, so no page may leak its URL (no-referrer) or be stored.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Response
from markupsafe import Markup

HERE = Path(__file__).parent
_CSS = (HERE / "pages.css").read_text()
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}
_STYLESHEET = Markup(_CSS)  # noqa: S704 (our own file, never input)
_ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def page(template: str, status: int = 200, **context: Any) -> Response[str]:
    """The rendered template as an HTML response with the pages' security headers."""
    html = _ENV.get_template(template).render(css=_STYLESHEET, **context)
    return Response(html, status_code=status, media_type="text/html; charset=utf-8", headers=HEADERS)
