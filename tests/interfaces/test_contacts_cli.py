"""`tidings contacts import FILE`: the durable import job from the command line, on both backends."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from interfaces.bootstrap import build
from interfaces.cli.main import cli
from interfaces.config import Settings
from projections.contact_imports import list_imports
from projections.contacts import count_contacts, find_by_email

CSV = "email,plan,seats\nann@example.com,pro,3\nbob@example.com,free,1\nnope,free,1\n"


def run(settings: Settings, *args: str) -> Result:
    env = {"TIDINGS_DATA_DIR": str(settings.data_dir), "TIDINGS_DATABASE_URL": settings.database_url}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_import_reports_counts_and_errors_and_the_contacts_are_queryable(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(CSV)

    result = run(settings, "contacts", "import", str(path))

    assert result.exit_code == 0, result.output
    assert "row 4: email:" in result.output
    container = build(settings)
    try:
        assert count_contacts(container.db) == 2
        ann = find_by_email(container.db, "ann@example.com")
        assert ann is not None and ann.attributes == {"plan": "pro", "seats": 3}
        [job] = list_imports(container.db)
        assert (job["status"], job["created"], job["rejected"], job["source"]) == ("completed", 2, 1, "people.csv")
        assert job["started_by"].startswith("cli:")
    finally:
        container.close()


def test_a_second_import_of_the_same_file_changes_nothing(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "people.ndjson"
    path.write_text('{"email": "ann@example.com", "attributes": {"plan": "pro"}}\n')
    run(settings, "contacts", "import", str(path))

    again = run(settings, "contacts", "import", str(path), "--format", "ndjson")

    assert again.exit_code == 0, again.output
    container = build(settings)
    try:
        latest = list_imports(container.db)[0]
        assert (latest["created"], latest["updated"], latest["unchanged"]) == (0, 0, 1)
        assert len(container.history.entries(find_by_email(container.db, "ann@example.com").id)) == 1  # type: ignore[union-attr]
    finally:
        container.close()


def test_an_unknown_extension_needs_format_and_a_bad_header_fails_cleanly(settings: Settings, tmp_path: Path) -> None:
    odd = tmp_path / "people.txt"
    odd.write_text(CSV)
    bad = tmp_path / "bad.csv"
    bad.write_text("name\nann\n")

    assert run(settings, "contacts", "import", str(odd)).exit_code == 2
    failed = run(settings, "contacts", "import", str(bad))
    assert failed.exit_code == 1
    assert "invalid_import_header" in failed.output
