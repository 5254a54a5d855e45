"""Operational endpoints: liveness, readiness (database and Redis), Prometheus metrics, projection status."""

from __future__ import annotations

import dataclasses

import pytest

from interfaces.config import Settings
from tests.conftest import REDIS_URL
from tests.interfaces.client import Api, error_of, service


def test_the_process_is_alive(api: Api) -> None:
    response = api.client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_ready_when_the_database_answers(api: Api) -> None:
    response = api.client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.redis
def test_ready_checks_redis_when_it_is_configured(settings: Settings, redis_prefix: str) -> None:
    with service(dataclasses.replace(settings, redis_url=REDIS_URL, redis_prefix=redis_prefix)) as api:
        response = api.client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_not_ready_when_configured_redis_is_unreachable(settings: Settings) -> None:
    with service(dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0")) as api:
        response = api.client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("unavailable")


def test_metrics_expose_requests_and_projection_lag(api: Api) -> None:
    api.client.get("/api/v1/keys", headers=api.admin)

    response = api.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "tidings_http_requests_total{" in response.text
    assert 'route="/api/v1/keys"' in response.text
    assert 'tidings_projection_lag{projection="api_keys"}' in response.text


def test_metrics_declare_a_valid_media_type(api: Api) -> None:
    content_type = api.client.get("/metrics").headers["content-type"]

    params = [p.split("=")[0].strip().lower() for p in content_type.split(";")[1:]]
    assert len(params) == len(set(params)), content_type


def test_metrics_count_rejected_requests_under_their_status(api: Api) -> None:
    api.client.get("/api/v1/keys")

    text = api.client.get("/metrics").text

    assert 'tidings_http_requests_total{method="GET",route="/api/v1/keys",status="401"} 1.0' in text


def test_projection_status_shows_no_lag_once_settled(api: Api) -> None:
    api.issue("editor")
    assert api.container.settle()

    response = api.client.get("/api/v1/projections", headers=api.admin)

    assert response.status_code == 200
    [api_keys] = [p for p in response.json() if p["name"] == "api_keys"]
    assert api_keys["lag"] == 0
    assert api_keys["position"] == api_keys["head"]


def test_projection_status_needs_a_key(api: Api) -> None:
    error_of(api.client.get("/api/v1/projections"), 401, "unauthorized")
