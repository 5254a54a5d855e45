"""An HTTP client over a fully assembled service, signed in as the bootstrap admin, and the error-shape check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from interfaces.bootstrap import Container, build
from interfaces.config import Settings
from interfaces.http.app import create_app


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for an API key."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Api:
    """A running app, its container, and the bootstrap admin's id and headers."""

    client: TestClient[Litestar]
    container: Container
    admin_id: UUID
    admin: dict[str, str]

    def issue(self, role: str, name: str = "a key", **body: Any) -> tuple[str, str]:
        """Issue a key as the admin; returns its id and its secret."""
        response = self.client.post("/api/v1/keys", json={"name": name, "role": role, **body}, headers=self.admin)
        assert response.status_code == 201, response.text
        return response.json()["id"], response.json()["key"]


def sign_in(container: Container) -> tuple[UUID, dict[str, str]]:
    """Issue the bootstrap admin key and make it visible to authentication."""
    issued = container.keys.issue_bootstrap_admin()
    assert issued is not None
    container.runner.catch_up_all()
    return issued.key.id, bearer(issued.token)


@contextmanager
def running(container: Container, *, run_projections: bool = True) -> Iterator[Api]:
    """The HTTP app over ``container``, started, with the bootstrap admin signed in."""
    admin_id, admin = sign_in(container)
    with TestClient(create_app(container, run_projections=run_projections)) as client:
        yield Api(client, container, admin_id, admin)


@contextmanager
def service(settings: Settings) -> Iterator[Api]:
    """A container built from ``settings`` and served over HTTP; closed afterwards."""
    container = build(settings)
    try:
        with running(container) as api:
            yield api
    finally:
        container.close()


def error_of(response: Response, status: int, code: str) -> dict[str, Any]:
    """Assert the status and the exact ``{"error": {code, message, details}}`` shape; return the details."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return dict(body["error"]["details"])
