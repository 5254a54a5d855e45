"""docs/events.md is generated from the domain; a stale copy fails the suite."""

from __future__ import annotations

from pathlib import Path

from interfaces.catalogue import render

ROOT = Path(__file__).resolve().parents[2]


def test_event_catalogue_is_up_to_date() -> None:
    assert (ROOT / "docs" / "events.md").read_text() == render(), (
        "docs/events.md is stale: run `.venv/bin/python -m interfaces.catalogue > docs/events.md`"
    )


def test_catalogue_lists_every_api_key_event() -> None:
    text = render()
    for name in ("Issued", "Renamed", "Revoked"):
        assert f"| `{name}` |" in text
