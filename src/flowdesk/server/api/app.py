"""The FastAPI application: the API under ``/api``, then the UI for every other path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from flowdesk.server.api import flow_runs, flows, health
from flowdesk.server.database.engine import make_engine, make_sessionmaker, one_line
from flowdesk.server.ui import UI_BUILD_DIR, mount_ui


def create_app(database_url: str | None = None, *, ui_dir: Path = UI_BUILD_DIR) -> FastAPI:
    """The app for ``database_url`` (default: :func:`flowdesk.settings.database_url`).

    ``ui_dir`` is the built UI to serve; it is a parameter so tests need not build one.
    """
    if database_url is None:
        from flowdesk.settings import database_url as configured_url

        database_url = configured_url()
    engine = make_engine(database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="flowdesk",
        summary="Track flows, their runs, task runs and logs.",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)

    @app.exception_handler(sa.exc.OperationalError)
    def database_unavailable(request: Request, exc: sa.exc.OperationalError) -> JSONResponse:
        return JSONResponse({"detail": f"database unavailable: {one_line(exc)}"}, status_code=503)

    for module in (health, flows, flow_runs):
        app.include_router(module.router, prefix="/api")
    # Last, so that no UI path can shadow an API route.
    mount_ui(app, ui_dir)
    return app
