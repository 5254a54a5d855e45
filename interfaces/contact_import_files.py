"""Reading contact import files: CSV with a header row, or NDJSON objects, into rows for the import job.

CSV cells are typed by what they look like (README "Contacts"): ``true``/``false`` are booleans, plain
decimal numbers are numbers, everything else is a string (ISO 8601 dates stay strings; the read model
also files them as datetimes). An empty cell leaves the field as it is. Numbers with a leading zero or
a ``+`` stay strings, so postal codes and phone numbers keep their form.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from application.contact_imports import ImportRow, Row, RowProblem
from application.contacts import ContactInput
from domain.contact import KEEP
from domain.contact_fields import AttributeValue, clean_attribute_name
from domain.contact_import import ImportFormat
from domain.errors import Invalid

CONTENT_TYPES = {
    "text/csv": ImportFormat.CSV,
    "application/csv": ImportFormat.CSV,
    "application/x-ndjson": ImportFormat.NDJSON,
    "application/ndjson": ImportFormat.NDJSON,
    "application/jsonl": ImportFormat.NDJSON,
    "application/x-jsonlines": ImportFormat.NDJSON,
}
BUILT_IN = ("email", "timezone", "locale")
NDJSON_KEYS = frozenset({*BUILT_IN, "attributes"})
_INTEGER = re.compile(r"^-?(?:0|[1-9][0-9]{0,14})$")
_DECIMAL = re.compile(r"^-?(?:0|[1-9][0-9]{0,14})\.[0-9]{1,15}$")
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # what surrogateescape leaves for bytes that are not UTF-8
_decode = msgspec.json.Decoder().decode


class InvalidImportHeader(Invalid):
    """A CSV import needs a header row with an ``email`` column and valid attribute names."""

    code = "invalid_import_header"


def infer(cell: str) -> AttributeValue | None:
    """The typed value of a CSV cell (already trimmed); ``None`` for an empty cell."""
    if not cell:
        return None
    lowered = cell.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if _INTEGER.match(cell):
        return int(cell)
    if _DECIMAL.match(cell):
        return float(cell)
    return cell


def read_header(stream: BinaryIO) -> list[str]:
    """The checked column names of a CSV file (built-in columns lower-cased), or ``InvalidImportHeader``."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        raw = next(csv.reader(text), [])
    finally:
        text.detach()
    columns = [c.strip().lower() if c.strip().lower() in BUILT_IN else c.strip() for c in raw]
    if "email" not in columns:
        raise InvalidImportHeader("the first row must be a header naming an 'email' column", field="header",
                                  columns=columns[:50])  # fmt: skip
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise InvalidImportHeader(f"columns named more than once: {duplicates}", field="header")
    for column in columns:
        if column not in BUILT_IN:
            try:
                clean_attribute_name(column)
            except Invalid as exc:
                raise InvalidImportHeader(f"column {column[:64]!r}: {exc.message}", field="header") from None
    return columns


class ImportFile:
    """An import file on disk, read once, front to back; ``position`` says how far."""

    def __init__(self, path: Path, format: str) -> None:  # noqa: A002
        self.path = path
        self.format = ImportFormat(format)
        self.size = path.stat().st_size
        self._file: Any = None

    def position(self) -> int:
        """Bytes read so far (the reader's buffer included)."""
        return int(self._file.raw.tell()) if self._file and not self._file.closed else self.size

    def rows(self) -> Iterator[Row]:
        """Every row, parsed; a row that cannot be parsed is a ``RowProblem``, never an exception."""
        with self.path.open("rb") as self._file:
            if self.format is ImportFormat.CSV:
                yield from _csv_rows(self._file)
            else:
                yield from _ndjson_rows(self._file)


def _csv_rows(stream: BinaryIO) -> Iterator[Row]:
    columns = read_header(stream)
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text)
    next(reader, None)
    width = len(columns)
    for number, cells in enumerate(reader, start=2):
        if not cells:
            continue
        if len(cells) != width:
            yield RowProblem(number, None, f"row has {len(cells)} cells; the header has {width}")
            continue
        if _UNDECODABLE.search("".join(cells)):
            yield RowProblem(number, None, "row is not valid UTF-8")
            continue
        yield ImportRow(number, _csv_contact(columns, cells))


def _csv_contact(columns: list[str], cells: list[str]) -> ContactInput:
    email, timezone, locale = "", KEEP, KEEP
    attributes: dict[str, object] = {}
    for column, cell in zip(columns, cells, strict=True):
        value = cell.strip()
        if column == "email":
            email = value
        elif column == "timezone":
            timezone = value or KEEP
        elif column == "locale":
            locale = value or KEEP
        elif value:
            attributes[column] = infer(value)
    return ContactInput(email, attributes, timezone, locale)


def _ndjson_rows(stream: BinaryIO) -> Iterator[Row]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            item = _decode(line)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            yield RowProblem(number, None, f"line is not valid JSON: {exc}"[:300])
            continue
        yield _ndjson_row(number, item)


def _ndjson_row(number: int, item: Any) -> Row:
    if not isinstance(item, dict):
        return RowProblem(number, None, "each line must be a JSON object")
    unknown = sorted(set(item) - NDJSON_KEYS)
    if unknown:
        return RowProblem(number, unknown[0], f"unknown keys {unknown[:5]}; put custom fields under 'attributes'")
    if "email" not in item:
        return RowProblem(number, "email", "email is required")
    attributes = item.get("attributes") or {}
    if not isinstance(attributes, dict):
        return RowProblem(number, "attributes", "attributes must be a JSON object")
    return ImportRow(number, ContactInput(item["email"], attributes, item.get("timezone", KEEP),
                                          item.get("locale", KEEP)))  # fmt: skip
