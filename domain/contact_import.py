"""A bulk import of contacts as a durable job: its counts and its per-row error report are events.

Each batch of rows is saved together with the ``Progressed`` event that counts it, in one transaction,
so the counts always agree with the contacts stored and a resumed import knows exactly where to go on.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import Invalid, RuleViolated
from domain.events import TidingsAggregate

MAX_ERRORS = 1000  # rows with errors reported in full; the total keeps counting past it


class ImportFormat(StrEnum):
    """What the uploaded file holds."""

    CSV = "csv"
    NDJSON = "ndjson"


class ImportStatus(StrEnum):
    """Where the job stands."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class ImportFinished(RuleViolated):
    """A completed or failed import takes no more rows."""

    code = "import_finished"


class UnknownImportFormat(Invalid):
    """Imports are CSV or NDJSON."""

    code = "unknown_import_format"


def parse_format(value: str) -> ImportFormat:
    """The format named by ``value``, or ``UnknownImportFormat``."""
    try:
        return ImportFormat(value)
    except ValueError:
        raise UnknownImportFormat(f"unknown import format {value[:20]!r}", field="format",
                                  allowed=[f.value for f in ImportFormat]) from None  # fmt: skip


class ContactImport(TidingsAggregate):
    """Counts of rows read, created, updated, unchanged and rejected, and the first errors in full."""

    @classmethod
    def start(cls, import_id: UUID, format: str, source: str, size_bytes: int) -> ContactImport:  # noqa: A002
        """A new running import of ``source`` (a file name, or ``upload``)."""
        return cls(id=import_id, format=parse_format(format).value, source=source[:200], size_bytes=size_bytes)

    @event("Started")
    def __init__(self, id: UUID, format: str, source: str, size_bytes: int) -> None:  # noqa: A002
        self.format = format
        self.source = source
        self.size_bytes = size_bytes
        self.status = ImportStatus.RUNNING.value
        self.rows_read = self.created = self.updated = self.unchanged = self.rejected = 0
        self.bytes_read = 0
        self.errors: list[dict[str, Any]] = []
        self.failure: str | None = None

    def _check_running(self) -> None:
        if self.status != ImportStatus.RUNNING:
            raise ImportFinished(f"import {self.id} is {self.status}", status=self.status)

    def record_batch(  # noqa: PLR0917 - one count per outcome
        self,
        rows: int,
        created: int,
        updated: int,
        unchanged: int,
        errors: list[dict[str, Any]],
        bytes_read: int,
    ) -> None:
        """Count a batch of rows; its errors (``row``, ``field``, ``message``) are kept up to the bound."""
        self._check_running()
        kept = errors[: max(0, MAX_ERRORS - len(self.errors))]
        self._progressed(rows, created, updated, unchanged, len(errors), kept, max(bytes_read, self.bytes_read))

    @event("Progressed")
    def _progressed(  # noqa: PLR0917 - the event's fields
        self,
        rows: int,
        created: int,
        updated: int,
        unchanged: int,
        rejected: int,
        errors: list[dict[str, Any]],
        bytes_read: int,
    ) -> None:
        self.rows_read += rows
        self.created += created
        self.updated += updated
        self.unchanged += unchanged
        self.rejected += rejected
        self.errors.extend(errors)
        self.bytes_read = bytes_read

    def complete(self) -> None:
        """Every row has been read."""
        self._check_running()
        self._completed()

    @event("Completed")
    def _completed(self) -> None:
        self.status = ImportStatus.COMPLETED.value

    def fail(self, message: str) -> None:
        """Stop for good: the file as a whole could not be read (rows already counted stay saved)."""
        self._check_running()
        self._failed(message[:1000])

    @event("Failed")
    def _failed(self, message: str) -> None:
        self.status = ImportStatus.FAILED.value
        self.failure = message
