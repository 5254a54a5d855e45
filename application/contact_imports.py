"""Bulk contact imports: rows are upserted in batches, each batch saved atomically with the job's progress.

A bad row is counted and reported, never fatal. Unchanged contacts record nothing, so importing the same
file twice stores no new contact events (only the second job's own progress).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any
from uuid import UUID, uuid4

from application.base import TidingsApplication
from application.contacts import ContactInput, Contacts, Outcome, apply_input
from application.store import EventStoreResources
from domain.contact import KEEP, Contact
from domain.contact_fields import clean_attribute_changes, clean_email, clean_locale, clean_timezone
from domain.contact_import import ContactImport
from domain.email_address import contact_id_for
from domain.errors import Conflict, Invalid

DEFAULT_BATCH = 1000
_ATTEMPTS = 5


@dataclass(frozen=True)
class ImportRow:
    """A row that parsed: its number in the file (as a spreadsheet counts it) and what it states."""

    number: int
    contact: ContactInput


@dataclass(frozen=True)
class RowProblem:
    """A row that could not even be parsed (bad JSON, wrong number of cells, ...)."""

    number: int
    field: str | None
    message: str


Row = ImportRow | RowProblem


def _problem(number: int, exc: Invalid) -> dict[str, Any]:
    return {"row": number, "field": exc.details.get("field"), "message": exc.message}


@dataclass
class _Staged:
    changed: dict[UUID, Contact]
    counts: dict[Outcome, int]
    errors: list[dict[str, Any]]


class ContactImports(TidingsApplication):
    """Run imports as durable jobs."""

    def __init__(self, store: EventStoreResources, contacts: Contacts) -> None:
        super().__init__(store)
        self._contacts = contacts

    def start(self, format: str, source: str, size_bytes: int) -> ContactImport:  # noqa: A002
        """Record a new running import."""
        job = ContactImport.start(uuid4(), format, source, size_bytes)
        self.save(job)
        return job

    def get(self, import_id: UUID) -> ContactImport:
        """The import's current state."""
        job: ContactImport = self.load(import_id, ContactImport)
        return job

    def run(
        self,
        job: ContactImport,
        rows: Iterable[Row],
        position: Callable[[], int] = lambda: 0,
        on_batch: Callable[[ContactImport], None] | None = None,
        batch_size: int = DEFAULT_BATCH,
    ) -> ContactImport:
        """Import every row (after those a previous run of this job already counted) and complete the job."""
        remaining = islice(iter(rows), job.rows_read, None)
        for batch in _batches(remaining, batch_size):
            job = self.save_batch(job, batch, position())
            if on_batch:
                on_batch(job)
        job.complete()
        self.save(job)
        return job

    def save_batch(self, job: ContactImport, batch: Sequence[Row], bytes_read: int) -> ContactImport:
        """Upsert the batch's contacts and count it on the job, in one transaction; retried on a race."""
        for _ in range(_ATTEMPTS):
            staged = self._stage(batch)
            c = staged.counts
            job.record_batch(len(batch), c[Outcome.CREATED], c[Outcome.UPDATED], c[Outcome.UNCHANGED],
                             staged.errors, bytes_read)  # fmt: skip
            try:
                self.save(*staged.changed.values(), job)
            except Conflict:
                # Another writer changed one of these contacts: the save wrote nothing; reload and redo.
                job = self.get(job.id)
                continue
            return job
        raise Conflict("contacts in this batch kept changing while they were imported; retry the import")

    def fail(self, import_id: UUID, message: str) -> ContactImport:
        """Stop the import for good with a reason."""
        job = self.get(import_id)
        job.fail(message)
        self.save(job)
        return job

    def _stage(self, batch: Sequence[Row]) -> _Staged:
        staged = _Staged({}, dict.fromkeys(Outcome, 0), [])
        # Rows of one address in a batch are merged (later rows win) and applied once: a file that states
        # a contact twice records only the net change, so importing it again records nothing.
        groups: dict[UUID, list[tuple[int, ContactInput]]] = {}
        for row in batch:
            if isinstance(row, RowProblem):
                staged.errors.append({"row": row.number, "field": row.field, "message": row.message})
                continue
            try:
                checked = _checked(row.contact)
            except Invalid as exc:
                staged.errors.append(_problem(row.number, exc))
                continue
            groups.setdefault(contact_id_for(str(checked.email)), []).append((row.number, checked))
        existing = self._contacts.load_many(list(groups))
        for contact_id, rows in groups.items():
            try:
                contact, outcome = apply_input(existing.get(contact_id), _merged([data for _, data in rows]))
            except Invalid as exc:
                staged.errors.extend(_problem(number, exc) for number, _ in rows)
                continue
            staged.counts[outcome] += 1
            staged.counts[Outcome.UPDATED if outcome is Outcome.CREATED else outcome] += len(rows) - 1
            if outcome is not Outcome.UNCHANGED:
                staged.changed[contact_id] = contact
        staged.errors.sort(key=lambda e: e["row"])
        return staged


def _checked(data: ContactInput) -> ContactInput:
    """The row's fields validated on their own, so a bad row is reported alone."""
    return ContactInput(
        clean_email(data.email),
        clean_attribute_changes(data.attributes),
        data.timezone if data.timezone is KEEP else clean_timezone(data.timezone),
        data.locale if data.locale is KEEP else clean_locale(data.locale),
    )


def _merged(inputs: list[ContactInput]) -> ContactInput:
    if len(inputs) == 1:
        return inputs[0]
    attributes: dict[str, object] = {}
    timezone: object = KEEP
    locale: object = KEEP
    for data in inputs:
        attributes.update(data.attributes)
        timezone = timezone if data.timezone is KEEP else data.timezone
        locale = locale if data.locale is KEEP else data.locale
    return ContactInput(inputs[0].email, attributes, timezone, locale)


def _batches(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while batch := list(islice(rows, size)):
        yield batch
