"""Import file parsing: CSV typing round-trips, bad rows become problems (never exceptions), NDJSON shapes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.contact_imports import ImportRow, RowProblem
from domain.contact import KEEP
from interfaces.contact_import_files import ImportFile, InvalidImportHeader, infer, read_header

names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda n: n not in {"email", "timezone", "locale", "email_domain", "created_at", "updated_at", "id"}
)
words = st.text(st.characters(categories=["L"]), min_size=1, max_size=12).filter(
    lambda w: w.lower() not in {"true", "false"}
)
# (what a spreadsheet writes into the cell, what the documented typing rules make of it)
cells = st.one_of(
    st.booleans().map(lambda b: ("TRUE" if b else "false", b)),
    st.integers(-(10**15) + 1, 10**15 - 1).map(lambda i: (str(i), i)),
    st.decimals(-(10**6), 10**6, places=3, allow_nan=False, allow_infinity=False).map(
        lambda d: (f"{d:f}", float(d)) if "." in f"{d:f}" else (f"{d:f}", int(d))
    ),
    words.map(lambda w: (w, w)),
    st.integers(0, 10**6).map(lambda i: (f"0{i}", f"0{i}")),
)


def parse(tmp_path: Path, text: str, fmt: str = "csv") -> list[Any]:
    path = tmp_path / f"file.{fmt}"
    path.write_bytes(text.encode("utf-8", errors="surrogateescape") if isinstance(text, str) else text)
    return list(ImportFile(path, fmt).rows())


@pytest.mark.parametrize(
    ("cell", "value"),
    [("true", True), ("FALSE", False), ("42", 42), ("-3.25", -3.25), ("0", 0), ("01234", "01234"),
     ("+33612345678", "+33612345678"), ("1e5", "1e5"), ("2024-05-01", "2024-05-01"),
     ("12345678901234567", "12345678901234567"), ("", None)],
)  # fmt: skip
def test_cells_are_typed_by_the_documented_rules(cell: str, value: Any) -> None:
    result = infer(cell)

    assert result == value
    assert type(result) is type(value)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(names, cells, min_size=1, max_size=5))
def test_a_written_csv_parses_back_to_typed_attributes(tmp_path_factory: Any, row: dict[str, Any]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", *row])
    writer.writerow(["ann@example.com", *(cell for cell, _ in row.values())])

    [parsed] = parse(tmp_path_factory.mktemp("csv"), out.getvalue())

    assert isinstance(parsed, ImportRow)
    assert parsed.contact.attributes == {name: value for name, (_, value) in row.items()}
    for name, (_, value) in row.items():
        assert type(parsed.contact.attributes[name]) is type(value)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_after_a_header_yield_rows_or_problems_never_an_exception(tmp_path_factory: Any, body: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f.csv"
    path.write_bytes(b"email,plan\n" + body)

    rows = list(ImportFile(path, "csv").rows())

    assert all(isinstance(r, ImportRow | RowProblem) for r in rows)
    assert [r.number for r in rows] == sorted({r.number for r in rows})


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_any_ndjson_bytes_yield_rows_or_problems_never_an_exception(tmp_path_factory: Any, body: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f.ndjson"
    path.write_bytes(body)

    rows = list(ImportFile(path, "ndjson").rows())

    assert all(isinstance(r, ImportRow | RowProblem) for r in rows)


def test_a_csv_row_of_the_wrong_width_or_not_utf8_is_a_problem_naming_its_row(tmp_path: Path) -> None:
    rows = parse(tmp_path, "email,plan\nann@example.com,pro,extra\n\nbob@example.com,caf\udce9\ncy@example.com,ok\n")

    assert [(type(r).__name__, r.number) for r in rows] == [("RowProblem", 2), ("RowProblem", 4), ("ImportRow", 5)]
    assert "3 cells" in rows[0].message
    assert "UTF-8" in rows[1].message


def test_empty_cells_leave_fields_as_they_are(tmp_path: Path) -> None:
    [row] = parse(tmp_path, "\ufeffEMAIL,timezone,locale,plan\n ann@example.com ,,, \n")

    assert row.contact.email == "ann@example.com"
    assert (row.contact.timezone, row.contact.locale, dict(row.contact.attributes)) == (KEEP, KEEP, {})


@pytest.mark.parametrize("header", ["name,plan", "email,email", "email,First Name", "email,created_at", ""])
def test_a_bad_header_is_refused_as_a_whole(header: str) -> None:
    with pytest.raises(InvalidImportHeader):
        read_header(io.BytesIO(header.encode()))


def test_ndjson_lines_map_to_contacts_and_keep_null_as_clear(tmp_path: Path) -> None:
    lines = [json.dumps({"email": "a@example.com", "timezone": None, "attributes": {"x": None}}), "[1]",
             json.dumps({"email": "b@example.com", "attributes": [1]}), json.dumps({"attributes": {}})]  # fmt: skip

    rows = parse(tmp_path, "\n".join(lines), "ndjson")

    assert isinstance(rows[0], ImportRow)
    assert (rows[0].contact.timezone, rows[0].contact.locale, dict(rows[0].contact.attributes)) == (
        None,
        KEEP,
        {"x": None},
    )
    assert [(r.number, r.field) for r in rows[1:]] == [(2, None), (3, "attributes"), (4, "email")]
