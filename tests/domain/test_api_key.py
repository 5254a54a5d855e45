"""API keys: issue, rename and revoke, each as given-events → when-command → then-events/then-error."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import domain
from domain.api_key import MAX_NAME, ApiKey, Role
from domain.errors import ApiKeyAlreadyRevoked, InvalidName, UnknownRole
from tests.domain.scenarios import KEY_ID, given, issued, renamed, revoked

HASH = "a" * 64


def issue(name: str = "Deploy bot", role: str = "editor") -> ApiKey:
    return ApiKey.issue(KEY_ID, name, role, HASH, "tdg_AbCdEf")


# -- issuing ----------------------------------------------------------------------------------------


def test_issuing_records_the_trimmed_name_role_hash_and_prefix() -> None:
    key = issue("  Deploy bot  ", "approver")

    [event] = key.collect_events()
    assert isinstance(event, ApiKey.Issued)
    assert event.originator_id == KEY_ID
    assert (event.name, event.role, event.token_hash, event.prefix) == ("Deploy bot", "approver", HASH, "tdg_AbCdEf")
    assert key.revoked is False


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_issuing_accepts_every_role(role: str) -> None:
    key = issue(role=role)

    assert key.role == role


def test_issuing_accepts_a_name_of_the_maximum_length() -> None:
    key = issue(" " + "n" * MAX_NAME + " ")

    assert key.name == "n" * MAX_NAME


@pytest.mark.parametrize(
    "name",
    ["", "   ", "n" * (MAX_NAME + 1), "nul\x00byte", "tab\there", "line\nbreak", "bell\x07", "\u200b"],
    ids=["empty", "blank", "too-long", "nul", "tab", "newline", "control", "zero-width"],
)
def test_issuing_rejects_an_invalid_name(name: str) -> None:
    with pytest.raises(InvalidName) as raised:
        issue(name=name)

    assert raised.value.code == "invalid_name"


@pytest.mark.parametrize("role", ["root", "ADMIN", "", " admin"])
def test_issuing_rejects_an_unknown_role_and_lists_the_allowed_ones(role: str) -> None:
    with pytest.raises(UnknownRole) as raised:
        issue(role=role)

    assert raised.value.details["allowed"] == ["admin", "editor", "approver", "analyst"]


# -- renaming ---------------------------------------------------------------------------------------


def test_renaming_records_the_trimmed_new_name() -> None:
    key = given(issued(name="Deploy bot"))

    key.rename("  Release bot ")

    [event] = key.collect_events()
    assert isinstance(event, ApiKey.Renamed)
    assert (event.name, event.originator_version) == ("Release bot", 2)
    assert key.name == "Release bot"


def test_renaming_rejects_an_invalid_name_and_records_nothing() -> None:
    key = given(issued(name="Deploy bot"), renamed(2, "Release bot"))

    with pytest.raises(InvalidName):
        key.rename(" \t ")

    assert key.collect_events() == []
    assert key.name == "Release bot"


# -- revoking ---------------------------------------------------------------------------------------


def test_revoking_records_revoked() -> None:
    key = given(issued(), renamed(2, "Release bot"))

    key.revoke()

    [event] = key.collect_events()
    assert isinstance(event, ApiKey.Revoked)
    assert event.originator_version == 3
    assert key.revoked is True


def test_revoking_a_revoked_key_raises_and_records_nothing() -> None:
    key = given(issued(), revoked(2))

    with pytest.raises(ApiKeyAlreadyRevoked) as raised:
        key.revoke()

    assert raised.value.details == {"key_id": str(KEY_ID)}
    assert key.collect_events() == []
    assert key.revoked is True


# -- event mutators never decide ---------------------------------------------------------------------


def _is_event_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return (isinstance(target, ast.Name) and target.id == "event") or (
        isinstance(target, ast.Attribute) and target.attr == "event"
    )


def _event_mutators() -> list[tuple[str, ast.FunctionDef]]:
    root = Path(domain.__path__[0])
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                _is_event_decorator(d) for d in node.decorator_list
            ):
                found.append((f"{path.relative_to(root)}:{node.name}", node))
    return found


def test_no_event_decorated_method_in_the_domain_raises() -> None:
    mutators = _event_mutators()
    assert len(mutators) >= 3, "the AST scan found too few @event methods to be looking in the right place"

    raising = [name for name, fn in mutators if any(isinstance(n, ast.Raise) for n in ast.walk(fn))]

    assert raising == [], f"guards belong in the undecorated command, not in the @event mutator: {raising}"
