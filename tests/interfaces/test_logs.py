"""Logs are JSON lines with the request id, and never contain API keys."""

from __future__ import annotations

import json
import logging

import pytest

from interfaces.logs import JsonFormatter, request_id_var
from tests.interfaces.client import Api


def test_a_log_line_is_json_with_the_request_id_and_extra_fields() -> None:
    token = request_id_var.set("req-42")
    try:
        record = logging.LogRecord("tidings.test", logging.INFO, __file__, 1, "hello %s", ("world",), None)
        record.projection = "api_keys"
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "hello world"
    assert line["request_id"] == "req-42"
    assert line["projection"] == "api_keys"
    assert line["level"] == "INFO"


def test_no_log_record_contains_an_api_key(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key_id, secret = api.issue("editor", "logged")
    api.client.get("/api/v1/keys", headers={"Authorization": f"Bearer {secret}"})
    api.client.post(f"/api/v1/keys/{key_id}/revoke", headers=api.admin)
    api.client.get("/api/v1/keys", headers={"Authorization": f"Bearer {secret}"})
    lines = [JsonFormatter().format(r) for r in caplog.records]
    assert any('"route":"/api/v1/keys"' in line for line in lines), "the access log was captured"
    admin_secret = api.admin["Authorization"].removeprefix("Bearer ")
    for line in lines:
        assert secret not in line
        assert admin_secret not in line
