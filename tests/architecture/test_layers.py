"""Layers point inward, configuration is read in one place, tests never patch our modules, imports connect nothing."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUR_PACKAGES = ("domain", "application", "projections", "interfaces")
# dateutil.rrule is pure calendar arithmetic (RFC 5545 recurrences): no I/O, no framework.
DOMAIN_LIBRARIES = ("eventsourcing.domain", "eventsourcing.dispatch", "eventsourcing.utils", "dateutil.rrule")
# Standard-library modules that do I/O or reach the process environment: not for the domain.
DOMAIN_FORBIDDEN_STDLIB = frozenset(
    {"os", "socket", "sqlite3", "subprocess", "shutil", "pathlib", "http", "urllib", "asyncio", "threading",
     "multiprocessing", "smtplib", "ssl", "tempfile", "logging", "signal", "select"}
)  # fmt: skip


def _modules(*packages: str) -> Iterator[Path]:
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def _name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every imported module name (absolute; relative imports resolved against the file's package)."""
    package = _name(path) if path.name == "__init__.py" else _name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]) if node.level else ""
            yield node.lineno, ".".join(p for p in (base, node.module) if p)


def _within(module: str, prefixes: tuple[str, ...] | frozenset[str]) -> bool:
    return any(module == p or module.startswith(f"{p}.") for p in prefixes)


def _violations(packages: tuple[str, ...], allowed: Callable[[str], bool]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _modules(*packages)
        for line, module in _imports(path)
        if not allowed(module)
    ]


def test_import_linter_contracts_are_kept() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


def _domain_may_import(module: str) -> bool:
    top = module.split(".", maxsplit=1)[0]
    if _within(module, ("domain", *DOMAIN_LIBRARIES)):
        return True
    return top in sys.stdlib_module_names and top not in DOMAIN_FORBIDDEN_STDLIB


def test_the_domain_imports_only_the_standard_library_and_the_event_model() -> None:
    assert _violations(("domain",), _domain_may_import) == []


def test_applications_never_import_read_models_or_edges() -> None:
    forbidden = ("projections", "interfaces", "litestar", "click", "uvicorn")

    assert _violations(("application",), lambda m: not _within(m, forbidden)) == []


def test_read_models_never_import_edges() -> None:
    forbidden = ("interfaces", "litestar", "click", "uvicorn")

    assert _violations(("projections",), lambda m: not _within(m, forbidden)) == []


def test_domain_tests_import_nothing_from_outer_layers() -> None:
    forbidden = ("application", "projections", "interfaces")

    assert _violations(("tests/domain",), lambda m: not _within(m, forbidden)) == []


_ENVIRONMENT = frozenset({"environ", "environb", "getenv", "putenv"})


def _environment_reads(path: Path) -> Iterator[int]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (isinstance(node, ast.Attribute) and node.attr in _ENVIRONMENT) or (
            isinstance(node, ast.ImportFrom) and node.module == "os" and {a.name for a in node.names} & _ENVIRONMENT
        ):
            yield node.lineno


def test_only_config_reads_the_environment() -> None:
    config = ROOT / "interfaces" / "config.py"
    readers = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _modules(*OUR_PACKAGES)
        if path != config
        for line in _environment_reads(path)
    ]

    assert readers == []
    assert list(_environment_reads(config)), "config.py should be the one reader"


def _patches_of_our_code(source: str) -> list[int]:
    """Lines where a monkeypatch sets or deletes an attribute of our modules or of something imported from them."""
    tree = ast.parse(source)
    ours: set[str] = set()
    patchers = {"monkeypatch"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            ours |= {(a.asname or a.name).split(".")[0] for a in node.names if _within(a.name, OUR_PACKAGES)}
        elif isinstance(node, ast.ImportFrom) and node.module and _within(node.module, OUR_PACKAGES):
            ours |= {a.asname or a.name for a in node.names}
        # `pytest.MonkeyPatch()` and `.context()` objects count as much as the fixture, whatever their name.
        elif isinstance(node, ast.withitem) and "MonkeyPatch" in ast.unparse(node.context_expr):
            patchers |= {node.optional_vars.id} if isinstance(node.optional_vars, ast.Name) else set()
        elif isinstance(node, ast.Assign) and "MonkeyPatch" in ast.unparse(node.value):
            patchers |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"setattr", "delattr"}
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in patchers
        and node.args
        and _targets_ours(node.args[0], ours)
    ]


def _targets_ours(target: ast.expr, ours: set[str]) -> bool:
    if isinstance(target, ast.Constant) and isinstance(target.value, str):
        return _within(target.value, OUR_PACKAGES)
    while isinstance(target, ast.Attribute | ast.Call | ast.Subscript):
        target = target.func if isinstance(target, ast.Call) else target.value
    return isinstance(target, ast.Name) and target.id in ours


@pytest.mark.parametrize(
    ("source", "patched"),
    [
        ("import interfaces.config\ndef t(monkeypatch):\n    monkeypatch.setattr(interfaces.config, 'x', 1)", True),
        ("from interfaces import bootstrap\ndef t(monkeypatch):\n    monkeypatch.setattr(bootstrap, 'build', 1)", True),
        ("from domain.api_key import ApiKey\ndef t(monkeypatch):\n    monkeypatch.delattr(ApiKey, 'revoke')", True),
        ("def t(monkeypatch):\n    monkeypatch.setattr('projections.runner.time.sleep', 1)", True),
        (
            "import pytest, application.keys as k\nwith pytest.MonkeyPatch.context() as mp:\n    mp.setattr(k, 'x', 1)",
            True,
        ),
        ("import time\ndef t(monkeypatch):\n    monkeypatch.setattr(time, 'sleep', 1)", False),
        ("def t(monkeypatch):\n    monkeypatch.setenv('TIDINGS_PORT', '1')", False),
        ("from interfaces.config import Settings\ns = Settings()\nobject.__setattr__(s, 'port', 1)", False),
    ],
)
def test_the_monkeypatch_detector_recognises_patches_of_our_code(source: str, patched: bool) -> None:
    assert bool(_patches_of_our_code(source)) is patched


def test_tests_never_monkeypatch_our_modules() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for line in _patches_of_our_code(path.read_text())
    ]

    assert offenders == []


def test_importing_the_app_needs_no_database(tmp_path: Path) -> None:
    prefixes = ("TIDINGS_", "POSTGRES_", "SQLITE_", "PERSISTENCE_", "PG", "REDIS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    # An unreachable database and Redis: importing must not try them, nor create files in the working directory.
    env |= {"TIDINGS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "TIDINGS_REDIS_URL": "redis://127.0.0.1:1"}
    code = "import interfaces.http.app, interfaces.cli.main, interfaces.bootstrap; print('imported')"

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"
    assert list(tmp_path.iterdir()) == []
