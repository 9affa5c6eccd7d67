"""``/api/health``: is the server up, and can it reach its database?

An orchestrator restarts the server by this answer, so it must come while every worker thread
and pooled connection is taken by requests: the probe runs on threads and a connection of its
own (``app.state.health_engine``), never queued behind the API's.
"""

from __future__ import annotations

import anyio
import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from flowdesk.errors import one_line
from flowdesk.server.api import schemas

router = APIRouter(tags=["health"])
PROBE_THREADS = 2  # as many as the health engine's connections (app._health_engine)


@router.get(
    "/health",
    response_model=schemas.Health,
    responses={503: {"model": schemas.Health, "description": "The database is unreachable"}},
)
async def health(request: Request) -> schemas.Health | JSONResponse:
    engine = request.app.state.health_engine
    try:
        await anyio.to_thread.run_sync(_probe, engine, limiter=_probe_threads(request.app))
    except sa.exc.SQLAlchemyError as exc:
        body = schemas.Health(status="error", database=one_line(exc))
        return JSONResponse(body.model_dump(), status_code=503)
    return schemas.Health(status="ok", database="ok")


def _probe(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def _probe_threads(app: FastAPI) -> anyio.CapacityLimiter:
    """The probe's own threads, made on first use: a limiter belongs to the running loop."""
    limiter = getattr(app.state, "health_threads", None)
    if limiter is None:
        limiter = app.state.health_threads = anyio.CapacityLimiter(PROBE_THREADS)
    return limiter
