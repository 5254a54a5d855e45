"""The one error mapping: every domain error family and concrete error has a status and its own code."""

from __future__ import annotations

import importlib
import pkgutil

import msgspec
import pytest

import domain
from domain.errors import DomainError
from interfaces.config import ConfigError
from interfaces.http.errors import on_domain_error, status_of


def _all_errors() -> list[type[DomainError]]:
    # Import every domain module first, so that errors declared next to their aggregate are found too.
    for module in pkgutil.iter_modules(domain.__path__, "domain."):
        importlib.import_module(module.name)
    found: list[type[DomainError]] = []
    pending = list(DomainError.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    assert ConfigError in found
    return sorted(set(found), key=lambda c: c.__qualname__)


ERRORS = _all_errors()


@pytest.mark.parametrize("error", ERRORS, ids=lambda c: c.__name__)
def test_every_domain_error_maps_to_a_client_status(error: type[DomainError]) -> None:
    assert status_of(error("broken rule")) in {403, 404, 409, 422}


@pytest.mark.parametrize("error", ERRORS, ids=lambda c: c.__name__)
def test_every_domain_error_names_its_own_code(error: type[DomainError]) -> None:
    assert "code" in vars(error), f"{error.__name__} inherits {error.code!r}"


def test_error_codes_are_unique() -> None:
    codes = [e.code for e in [DomainError, *ERRORS]]

    assert sorted(codes) == sorted(set(codes))


@pytest.mark.parametrize("error", ERRORS, ids=lambda c: c.__name__)
def test_a_domain_error_becomes_the_error_body(error: type[DomainError]) -> None:
    response = on_domain_error(None, error("it broke", field="name"))  # type: ignore[arg-type]

    body = msgspec.to_builtins(response.content)
    assert response.status_code == status_of(error("x"))
    assert body == {"error": {"code": error.code, "message": "it broke", "details": {"field": "name"}}}
