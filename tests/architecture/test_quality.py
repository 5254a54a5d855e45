"""Lint, types and size: ruff and mypy are clean, modules stay small, tests have no narrated test() or timing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MAX_MODULE_LINES = 400


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "--no-cache", ".")

    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean_on_the_strict_packages() -> None:
    result = _run("mypy")

    assert result.returncode == 0, result.stdout + result.stderr


def test_modules_stay_under_the_hard_size_limit() -> None:
    oversized = {
        str(path.relative_to(ROOT)): lines
        for package in ("domain", "application", "projections", "interfaces")
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }

    assert oversized == {}


def _narrated_tests_and_timers(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "test":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} def test(...)")
        timer = (isinstance(node, ast.Attribute) and node.attr == "perf_counter") or (
            isinstance(node, ast.Name) and node.id == "perf_counter"
        )
        if timer:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} perf_counter")
    return found


def test_tests_have_no_single_narrated_test_and_no_timing() -> None:
    found = [f for path in sorted((ROOT / "tests").rglob("*.py")) for f in _narrated_tests_and_timers(path)]

    assert found == []
