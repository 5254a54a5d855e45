"""The published OpenAPI document: every API operation is named and documents its failures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from interfaces.config import Settings
from tests.interfaces.client import Api, service

HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One app for the module; the document does not depend on the backend."""
    with service(Settings(data_dir=tmp_path_factory.mktemp("openapi"))) as api:
        yield api


@pytest.fixture(scope="module")
def spec(api: Api) -> dict[str, Any]:
    """The OpenAPI document as served."""
    response = api.client.get("/schema/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operations(spec: dict[str, Any], prefix: str = "") -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        if path.startswith(prefix)
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_the_api_has_operations(spec: dict[str, Any]) -> None:
    assert len(_operations(spec, "/api/v1/")) >= 8


def test_every_api_operation_is_named(spec: dict[str, Any]) -> None:
    unnamed = [f"{m.upper()} {p}" for p, m, op in _operations(spec, "/api/v1/") if not op.get("operationId")]

    assert unnamed == []


def test_every_api_operation_documents_401_and_another_client_error(spec: dict[str, Any]) -> None:
    undocumented = [
        f"{m.upper()} {p}"
        for p, m, op in _operations(spec, "/api/v1/")
        if "401" not in op["responses"] or not {s for s in op["responses"] if s.startswith("4")} - {"401"}
    ]

    assert undocumented == []


def test_documented_errors_use_the_error_body(spec: dict[str, Any]) -> None:
    error_schemas = {
        str(op["responses"][status]["content"]["application/json"]["schema"].get("$ref", ""))
        for _, _, op in _operations(spec, "/api/v1/")
        for status in op["responses"]
        if status.startswith("4")
    }

    assert error_schemas == {"#/components/schemas/ErrorBody"}


def test_operation_ids_are_unique(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in _operations(spec) if "operationId" in op]

    assert sorted(ids) == sorted(set(ids))


def test_the_interactive_docs_are_served(api: Api) -> None:
    response = api.client.get("/schema/swagger")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger" in response.text.lower()
