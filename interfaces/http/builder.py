"""The segment builder page: server-sent HTML plus its script and styles, all from this installation.

The page holds no data: it asks for an API key and talks to /api/v1 like any other client, so the
same role checks apply. A strict Content-Security-Policy keeps it to its own script.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

UI = Path(__file__).with_name("ui")
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css"}
_ASSETS = frozenset({"segment_builder.js", "segment_builder.css"})
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _file(name: str) -> Response[bytes]:
    path = UI / name
    return Response(path.read_bytes(), media_type=_TYPES[path.suffix], headers=_HEADERS)


@get("/ui/segments/builder", include_in_schema=False, sync_to_thread=False)
def segment_builder() -> Response[bytes]:
    """The segment builder page."""
    return _file("segment_builder.html")


@get("/ui/static/{name:str}", include_in_schema=False, sync_to_thread=False)
def ui_asset(name: FromPath[str]) -> Response[bytes]:
    """The builder's script and styles (a fixed list: no path from the request reaches the file system)."""
    if name not in _ASSETS:
        raise NotFoundException(f"no UI asset {name!r}")
    return _file(name)
