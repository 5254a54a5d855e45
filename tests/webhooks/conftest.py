"""Fixtures for the webhook endpoint: the app over both backends, signed in as admin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from interfaces.bootstrap import Container
from tests.interfaces.client import Api, running


@pytest.fixture
def api(container: Container) -> Iterator[Api]:
    """The running app with projections in-process and an admin key."""
    with running(container) as api:
        yield api
