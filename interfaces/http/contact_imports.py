"""Bulk contact imports over HTTP: a streamed CSV or NDJSON upload becomes a background job (202).

The upload is streamed to a file under the data dir (never held in memory), its CSV header checked,
then a thread of this process runs the job; its progress is durable (events), read back from the
``contact_imports`` read model.
"""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from domain.contact_import import ContactImport, ImportFormat
from domain.errors import NotFound
from domain.events import caused_by, current_actor
from interfaces.bootstrap import Container
from interfaces.contact_import_files import CONTENT_TYPES, ImportFile, read_header
from interfaces.http.auth import ANY_ROLE
from interfaces.http.contacts import EDITORS
from interfaces.http.errors import documented
from interfaces.http.schemas.contacts import ContactImport as ImportOut
from interfaces.http.schemas.contacts import RowError
from interfaces.logs import request_id_var
from projections.contact_imports import get_import, list_imports
from projections.email_events import stamp

log = logging.getLogger("tidings.imports")


def _format_of(request: Request[Any, Any, Any]) -> ImportFormat:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = CONTENT_TYPES.get(media_type)
    if fmt is None:
        raise HTTPException(status_code=415, detail="imports are text/csv or application/x-ndjson",
                            extra={"content_type": media_type or None, "accepted": sorted(CONTENT_TYPES)})  # fmt: skip
    return fmt


async def _accept_import_media_types(request: Request[Any, Any, Any]) -> None:
    # Replaces the API's JSON-only rule for this controller's uploads.
    if request.method == "POST":
        _format_of(request)


async def _save_upload(request: Request[Any, Any, Any], path: Path, limit: int) -> int:
    size = 0
    async with await anyio.open_file(path, "wb") as f:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPException(status_code=413, detail=f"import files are at most {limit} bytes")
            await f.write(chunk)
    return size


def _start(container: Container, path: Path, fmt: ImportFormat, size: int) -> ContactImport:
    if fmt is ImportFormat.CSV:
        with path.open("rb") as f:
            read_header(f)  # a bad header is the client's 422 now, not a failed job later
    job = container.contact_imports.start(fmt.value, "upload", size)
    final = path.with_name(f"{job.id}.{fmt.value}")
    path.rename(final)
    actor, request_id = current_actor(), request_id_var.get()
    thread = threading.Thread(target=_run, args=(container, job, final, actor, request_id), daemon=True,
                              name=f"import-{job.id}")  # fmt: skip
    thread.start()
    container.settle()
    return job


def _run(container: Container, job: ContactImport, path: Path, actor: str, request_id: str | None) -> None:
    """The background job: every contact it writes is attributed to whoever uploaded the file."""
    try:
        with caused_by(actor, request_id):
            source = ImportFile(path, job.format)
            container.contact_imports.run(job, source.rows(), source.position)
    except Exception as exc:
        log.exception("contact import failed", extra={"import_id": str(job.id)})
        with caused_by(actor, request_id):
            container.contact_imports.fail(job.id, f"the import stopped: {type(exc).__name__}")
    finally:
        path.unlink(missing_ok=True)


def _out(job: dict[str, Any]) -> ImportOut:
    errors = [RowError(**e) for e in job.pop("errors", [])]
    return ImportOut(**job, errors=errors, errors_truncated=job["rejected"] > len(errors))


def _from_aggregate(job: ContactImport) -> dict[str, Any]:
    return {"id": job.id, "format": job.format, "source": job.source, "status": job.status,
            "size_bytes": job.size_bytes, "bytes_read": job.bytes_read, "rows_read": job.rows_read,
            "created": job.created, "updated": job.updated, "unchanged": job.unchanged, "rejected": job.rejected,
            "failure": job.failure, "started_by": current_actor(), "started_at": stamp(job.created_on),
            "updated_at": stamp(job.modified_on), "finished_at": None, "errors": []}  # fmt: skip


class ContactImportsController(Controller):
    """Import contacts from CSV or NDJSON in the background; follow the job's progress."""

    path = "/contacts/imports"
    tags = ["contacts"]
    guards = [ANY_ROLE]
    before_request = _accept_import_media_types

    @post("/", operation_id="importContacts", guards=[EDITORS], status_code=202, request_max_body_size=None,
          responses=documented(400, 401, 403, 413, 415, 422, 429))  # fmt: skip
    async def create(
        self, request: Request[Any, Any, Any], container: NamedDependency[Container]
    ) -> Response[ImportOut]:
        """Upload a CSV (header row with an ``email`` column) or NDJSON file; answers 202 with the job."""
        fmt = _format_of(request)
        folder = Path(container.settings.data_dir) / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"upload-{uuid.uuid4().hex}.part"
        try:
            size = await _save_upload(request, path, container.settings.import_max_bytes)
            job = await anyio.to_thread.run_sync(_start, container, path, fmt, size)
        finally:
            path.unlink(missing_ok=True)
        out = get_import(container.db, job.id) or _from_aggregate(job)
        return Response(_out(out), status_code=202, headers={"Location": f"/api/v1/contacts/imports/{job.id}"})

    @get("/", operation_id="listContactImports", sync_to_thread=True, responses=documented(400, 401, 403, 429))
    def list(self, container: NamedDependency[Container]) -> list[ImportOut]:
        """The latest imports, newest first (without their row errors)."""
        return [_out(j) for j in list_imports(container.db)]

    @get("/{import_id:uuid}", operation_id="getContactImport", sync_to_thread=True,
         responses=documented(400, 401, 403, 404, 429))  # fmt: skip
    def read(self, import_id: FromPath[UUID], container: NamedDependency[Container]) -> ImportOut:
        """Progress counts, status, and the first rejected rows (row, field, message)."""
        job = get_import(container.db, import_id)
        if job is None:
            raise NotFound(f"contact import {import_id} not found")
        return _out(job)
