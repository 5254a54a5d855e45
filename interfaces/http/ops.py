"""Operational endpoints: liveness, readiness, metrics, projection status."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.concurrency import sync_to_thread
from litestar.datastructures import State
from litestar.di import NamedDependency
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from interfaces.bootstrap import Container
from interfaces.http.auth import ANY_ROLE
from interfaces.http.errors import documented
from interfaces.http.schemas.ops import Health, ProjectionState

# Litestar appends "; charset=utf-8" to text/* media types; a second charset makes the header invalid.
_METRICS_MEDIA_TYPE = CONTENT_TYPE_LATEST.removesuffix("; charset=utf-8")


@get("/healthz", operation_id="healthz", tags=["operations"], sync_to_thread=False)
def healthz() -> Health:
    """The process is up."""
    return Health("ok")


@get("/readyz", operation_id="readyz", tags=["operations"], responses=documented(503))
async def readyz(state: State) -> Response[Health]:
    """The database (and Redis, when configured) answer; 503 otherwise."""
    checks: dict[str, str] = {}
    try:
        await sync_to_thread(state.container.db.ping)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    if state.redis is not None:
        try:
            await state.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return Response(Health("ok" if ready else "unavailable", checks), status_code=200 if ready else 503)


@get("/metrics", operation_id="metrics", tags=["operations"], sync_to_thread=True, media_type=_METRICS_MEDIA_TYPE)
def metrics(state: State) -> bytes:
    """Prometheus text exposition."""
    return generate_latest(state.metrics.registry)


class ProjectionsController(Controller):
    """Read-model status for operators."""

    path = "/projections"
    tags = ["operations"]
    guards = [ANY_ROLE]

    @get("/", operation_id="listProjections", sync_to_thread=True, responses=documented(401, 403, 429))
    def status(self, container: NamedDependency[Container]) -> list[ProjectionState]:
        """Each projection's position and lag behind the log."""
        return [
            ProjectionState(s.name, s.version, s.position, s.head, s.lag, s.updated_at)
            for s in container.runner.status()
        ]
