"""The FastAPI application: the API under ``/api``, then the UI for every other path."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm import sessionmaker

from flowdesk import settings
from flowdesk.errors import one_line
from flowdesk.server.api import flow_runs, flows, health
from flowdesk.server.api.access import AccessControl
from flowdesk.server.api.docs import mount_docs
from flowdesk.server.api.limits import BodySizeLimit
from flowdesk.server.database.engine import make_engine
from flowdesk.server.ui import UI_BUILD_DIR, mount_ui

#: Threads for the sync endpoints, out of anyio's default 40. Their work is mostly Python, so
#: more threads only fight over the GIL, and the event loop with them: at 500 clients, 8 threads
#: answered 30% more requests than 40 on PostgreSQL and /api/health's median fell from 242 ms
#: to 41 ms (benchmarks/load.py).
API_THREADS = 8


def _health_engine(database_url: str, engine: sa.Engine) -> sa.Engine:
    """/api/health's own connections, with a short wait so that a stuck probe is a 503.

    Only a queue pool can be taken by requests; any other (``sqlite://``'s one connection per
    thread) is shared as it is.
    """
    if not isinstance(engine.pool, sa.pool.QueuePool):
        return engine
    return make_engine(database_url, pool_size=1, max_overflow=1, pool_timeout=5)


class AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII characters escaped, so even a lone surrogate (which UTF-8 cannot
    encode, but JSON's ``\\ud800`` can express) is sent back as the client wrote it."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode()


def create_app(
    database_url: str | None = None,
    *,
    ui_dir: Path = UI_BUILD_DIR,
    allowed_hosts: Collection[str] | None = None,
    api_token: str | None = None,
) -> FastAPI:
    """The app for ``database_url`` (default: :func:`flowdesk.settings.database_url`).

    ``ui_dir`` is the built UI to serve; it is a parameter so tests need not build one.
    ``allowed_hosts`` and ``api_token`` default to what the environment says
    (:mod:`flowdesk.settings`); see :mod:`flowdesk.server.api.access`.
    """
    if database_url is None:
        database_url = settings.database_url()
    if allowed_hosts is None:
        allowed_hosts = settings.allowed_hosts()
    if api_token is None:
        api_token = settings.api_token()
    engine = make_engine(database_url)
    health_engine = _health_engine(database_url, engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = API_THREADS
        yield
        for each in {engine, health_engine}:
            each.dispose()

    app = FastAPI(
        title="flowdesk",
        summary="Track flows, their runs, task runs and logs.",
        docs_url=None,  # mount_docs serves it without a CDN
        openapi_url="/api/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit)
    # Added last, so it runs first: a request from a page elsewhere is refused before its body
    # is read.
    app.add_middleware(AccessControl, allowed_hosts=allowed_hosts, token=api_token)
    app.state.engine = engine
    app.state.health_engine = health_engine
    app.state.sessions = sessionmaker(engine)

    @app.exception_handler(RequestValidationError)
    def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's 422 body, minus any ``input`` holding NaN or ±Infinity, which JSON cannot
        carry: FastAPI's own handler echoes every input, so refusing one ended in a 500."""
        errors = jsonable_encoder(exc.errors())
        for error in errors:
            try:
                json.dumps(error.get("input"), allow_nan=False)
            except ValueError:
                del error["input"]
        return AsciiJSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(sa.exc.OperationalError)
    def database_unavailable(request: Request, exc: sa.exc.OperationalError) -> JSONResponse:
        reason = one_line(exc)
        if "database is locked" in reason:  # SQLite: another writer outlasted the lock wait
            return JSONResponse(
                {"detail": f"database busy, retry: {reason}"},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        return JSONResponse({"detail": f"database unavailable: {reason}"}, status_code=503)

    for module in (health, flows, flow_runs):
        app.include_router(module.router, prefix="/api")
    mount_docs(app)
    # Last, so that no UI path can shadow an API route.
    mount_ui(app, ui_dir)
    return app
