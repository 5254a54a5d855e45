"""Delivery fixtures: the container with its projection runner running (the worker reads the read models)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from interfaces.bootstrap import Container


@pytest.fixture
def live(container: Container) -> Iterator[Container]:
    """The container with projections following the store in the background."""
    container.runner.start()
    try:
        yield container
    finally:
        container.runner.stop()
