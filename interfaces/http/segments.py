"""Segment endpoints: save, revise, archive, count, list members, and preview a definition without saving."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from domain.api_key import Role
from domain.errors import NotFound
from domain.events import because
from interfaces.bootstrap import Container
from interfaces.http.auth import ANY_ROLE, require
from interfaces.http.errors import documented
from interfaces.http.paging import bad_cursor
from interfaces.http.schemas.segments import (
    CountOut,
    MemberOut,
    MembersPage,
    PreviewOut,
    PreviewRequest,
    Revision,
    SegmentArchive,
    SegmentCreate,
    SegmentOut,
    SegmentUpdate,
)
from interfaces.segment_cache import READ_MODELS, preview_key
from projections.segment_memberships import member_count, member_page
from projections.segments import SegmentRow, get_segment, list_segments, revisions

EDITORS = require(Role.EDITOR)
_ERRORS = (401, 403, 429)
Limit = Annotated[int, msgspec.Meta(ge=1, le=1000)]


def _out(container: Container, row: SegmentRow) -> SegmentOut:
    counted = member_count(container.db, str(row.id))
    return SegmentOut(
        row.id, row.name, row.description, row.definition, row.revision, row.archived, row.created_at,
        row.updated_at, row.created_by, counted[0] if counted else None,
    )  # fmt: skip


def _row(container: Container, segment_id: UUID) -> SegmentRow:
    row = get_segment(container.db, segment_id)
    if row is None:
        raise NotFound(f"segment {segment_id} not found")
    return row


def _settled(container: Container, segment_id: UUID) -> SegmentOut:
    container.settle()
    return _out(container, _row(container, segment_id))


def _member(r: dict[str, Any]) -> MemberOut:
    return MemberOut(UUID(r["id"]), r["email"], json.loads(r["attributes"]))


def _positions(container: Container) -> dict[str, int]:
    return {st.name: st.position for st in container.runner.status() if st.name in READ_MODELS}


class SegmentsController(Controller):
    """Saved audiences and live previews."""

    path = "/segments"
    tags = ["segments"]

    @post("/", operation_id="createSegment", guards=[EDITORS], sync_to_thread=True,
          responses=documented(400, 415, 422, *_ERRORS))  # fmt: skip
    def create(self, data: JSONBody[SegmentCreate], container: NamedDependency[Container]) -> SegmentOut:
        """Save a segment; its membership is maintained from then on."""
        with because(data.reason):
            segment = container.segments.define(data.name, data.description, data.definition)
        return _settled(container, segment.id)

    @get("/", operation_id="listSegments", guards=[ANY_ROLE], sync_to_thread=True, responses=documented(400, *_ERRORS))
    def list(
        self, container: NamedDependency[Container], include_archived: FromQuery[bool] = False
    ) -> list[SegmentOut]:
        """Saved segments by name, with their member counts."""
        return [_out(container, r) for r in list_segments(container.db, include_archived)]

    @get("/{segment_id:uuid}", operation_id="getSegment", guards=[ANY_ROLE], sync_to_thread=True,
         responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def read(self, segment_id: FromPath[UUID], container: NamedDependency[Container]) -> SegmentOut:
        """One segment."""
        return _out(container, _row(container, segment_id))

    @patch("/{segment_id:uuid}", operation_id="updateSegment", guards=[EDITORS], sync_to_thread=True,
           responses=documented(400, 404, 409, 415, 422, *_ERRORS))  # fmt: skip
    def update(
        self, segment_id: FromPath[UUID], data: JSONBody[SegmentUpdate], container: NamedDependency[Container]
    ) -> SegmentOut:
        """Rename, describe, or save a new revision of the definition."""
        with because(data.reason):
            container.segments.update(segment_id, data.name, data.description, data.definition)
        return _settled(container, segment_id)

    @post("/{segment_id:uuid}/archive", operation_id="archiveSegment", guards=[EDITORS], status_code=200,
          sync_to_thread=True, responses=documented(400, 404, 409, 415, *_ERRORS))  # fmt: skip
    def archive(
        self, segment_id: FromPath[UUID], container: NamedDependency[Container],
        data: JSONBody[SegmentArchive | None] = None,
    ) -> SegmentOut:  # fmt: skip
        """Retire a segment: it keeps its history, loses its members."""
        with because(data.reason if data else None):
            container.segments.archive(segment_id)
        return _settled(container, segment_id)

    @get("/{segment_id:uuid}/revisions", operation_id="listSegmentRevisions", guards=[ANY_ROLE],
         sync_to_thread=True, responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def revisions(self, segment_id: FromPath[UUID], container: NamedDependency[Container]) -> list[Revision]:
        """Every revision of the definition, oldest first."""
        _row(container, segment_id)
        return [Revision(r.revision, r.definition, r.saved_at, r.saved_by) for r in revisions(container.db, segment_id)]

    @get("/{segment_id:uuid}/count", operation_id="countSegment", guards=[ANY_ROLE], sync_to_thread=True,
         responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def count(self, segment_id: FromPath[UUID], container: NamedDependency[Container]) -> CountOut:
        """The maintained member count and when it was last evaluated."""
        row = _row(container, segment_id)
        counted = member_count(container.db, str(row.id))
        if counted is None:
            container.settle()
            counted = member_count(container.db, str(row.id)) or (0, "")
        return CountOut(counted[0], counted[1])

    @get("/{segment_id:uuid}/members", operation_id="listSegmentMembers", guards=[ANY_ROLE], sync_to_thread=True,
         responses=documented(400, 404, *_ERRORS))  # fmt: skip
    def members(
        self,
        segment_id: FromPath[UUID],
        container: NamedDependency[Container],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[Limit] = 100,
    ) -> MembersPage:
        """Members ordered by contact id; pass ``next_cursor`` back as ``cursor``."""
        _row(container, segment_id)
        if cursor is not None:
            try:
                UUID(cursor)
            except ValueError:
                raise bad_cursor() from None
        rows = member_page(container.db, str(segment_id), cursor, limit)
        return MembersPage([_member(r) for r in rows], rows[-1]["id"] if len(rows) == limit else None)

    @post("/preview", operation_id="previewSegment", guards=[ANY_ROLE], status_code=200,
          responses=documented(400, 415, 422, *_ERRORS))  # fmt: skip
    async def preview(
        self, data: JSONBody[PreviewRequest], container: NamedDependency[Container], request: Request[Any, Any, Any]
    ) -> PreviewOut:
        """Count a definition and show a few members, without saving it (what the builder calls on each edit)."""
        now = datetime.now(UTC)
        positions = await sync_to_thread(_positions, container)
        key = preview_key(data.definition, data.sample, positions, now)
        cache = request.app.state.preview_cache
        hit = await cache.get(key)
        if hit is not None:
            return PreviewOut(hit["count"], [msgspec.convert(m, MemberOut) for m in hit["sample"]], hit["as_of"], True)
        count, sample = await sync_to_thread(container.preview_segment, data.definition, now, data.sample)
        members = [MemberOut(m.id, m.email, m.attributes) for m in sample]
        out = PreviewOut(count, members, now.isoformat(timespec="microseconds"), False)
        await cache.put(key, msgspec.to_builtins(out))
        return out
