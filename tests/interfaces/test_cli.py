"""The `tidings` CLI: keys, projections and history, run in-process against both backends."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from interfaces.cli.main import cli
from interfaces.config import Settings

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def run(settings: Settings):  # type: ignore[no-untyped-def]
    """Invoke the CLI with TIDINGS_* pointing at this test's store."""
    env = {"TIDINGS_DATA_DIR": str(settings.data_dir), "TIDINGS_DATABASE_URL": settings.database_url}

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def _create(run, name: str = "ops", role: str = "analyst") -> tuple[str, str]:  # type: ignore[no-untyped-def]
    result = run("keys", "create", "--name", name, "--role", role, "--reason", "dashboards")
    assert result.exit_code == 0, result.output
    key_id = UUID_RE.search(result.output)
    token = re.search(r"tdg_\S+", result.output)
    assert key_id and token
    return key_id.group(0), token.group(0)


def test_keys_create_prints_the_secret_once_and_list_never_shows_it(run) -> None:  # type: ignore[no-untyped-def]
    key_id, token = _create(run)
    listed = run("keys", "list")
    assert listed.exit_code == 0
    assert key_id in listed.output
    assert token not in listed.output


def test_keys_revoke_hides_the_key_from_the_default_list(run) -> None:  # type: ignore[no-untyped-def]
    key_id, _ = _create(run)
    assert run("keys", "revoke", key_id, "--reason", "rotated").exit_code == 0
    assert key_id not in run("keys", "list").output
    assert key_id in run("keys", "list", "--all").output


def test_revoking_twice_fails_with_the_rule_that_was_broken(run) -> None:  # type: ignore[no-untyped-def]
    key_id, _ = _create(run)
    run("keys", "revoke", key_id)
    again = run("keys", "revoke", key_id)
    assert again.exit_code == 1
    assert "api_key_already_revoked" in again.output


def test_create_rejects_an_unknown_role(run) -> None:  # type: ignore[no-untyped-def]
    result = run("keys", "create", "--name", "x", "--role", "owner")
    assert result.exit_code == 2
    assert "owner" in result.output


def test_history_shows_operator_reason_and_redacts_the_hash(run) -> None:  # type: ignore[no-untyped-def]
    key_id, _ = _create(run)
    run("keys", "revoke", key_id, "--reason", "rotated")
    result = run("history", key_id, "--json")
    assert result.exit_code == 0
    events = json.loads(result.output)
    assert [e["type"] for e in events] == ["ApiKey.Issued", "ApiKey.Revoked"]
    assert events[0]["actor"].startswith("cli:")
    assert events[0]["request_id"].startswith("cli-")
    assert [e["reason"] for e in events] == ["dashboards", "rotated"]
    assert events[0]["payload"]["token_hash"] == "[redacted]"


def test_history_at_an_instant_before_creation_is_an_error(run) -> None:  # type: ignore[no-untyped-def]
    key_id, _ = _create(run)
    result = run("history", key_id, "--at", "2000-01-01T00:00:00+00:00")
    assert result.exit_code == 1
    assert "did not exist yet" in result.output
    state = run("history", key_id, "--at", "2999-01-01T00:00:00+00:00")
    assert json.loads(state.output)["state"]["name"] == "ops"
    assert run("history", key_id, "--at", "yesterday").exit_code == 2


def test_projections_status_and_rebuild(run) -> None:  # type: ignore[no-untyped-def]
    _create(run, "a")
    _create(run, "b")
    status = run("projections", "status")
    assert status.exit_code == 0
    assert "api_keys" in status.output
    rebuilt = run("projections", "rebuild", "api_keys")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rebuilt api_keys: 2 events" in rebuilt.output
    listed = run("keys", "list").output
    assert "a" in listed and "b" in listed


def test_rebuilding_an_unknown_projection_names_the_known_ones(run) -> None:  # type: ignore[no-untyped-def]
    result = run("projections", "rebuild", "nope")
    assert result.exit_code == 1
    assert "no projection named 'nope'" in result.output


def test_the_default_database_is_an_sqlite_file_under_the_data_dir(tmp_path: Path) -> None:
    env = {"TIDINGS_DATA_DIR": str(tmp_path / "var"), "TIDINGS_DATABASE_URL": ""}
    result = CliRunner().invoke(cli, ["keys", "create", "--name", "n", "--role", "editor"], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "var" / "tidings.db").exists()
