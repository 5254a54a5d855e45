"""What every CLI command shares: settings read once, a container built on demand, operator attribution."""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import click

from domain.errors import DomainError
from domain.events import caused_by, cli_actor
from interfaces.bootstrap import Container, build
from interfaces.config import Settings


@contextmanager
def open_container(settings: Settings | None = None) -> Iterator[Container]:
    """Build the container, attribute commands to the operator, close on exit, and print domain errors."""
    container = build(settings or Settings.from_env())
    try:
        with caused_by(cli_actor(getpass.getuser()), f"cli-{uuid.uuid4().hex}"):
            yield container
    except DomainError as exc:
        raise click.ClickException(f"{exc.message} ({exc.code})") from None
    finally:
        container.close()
