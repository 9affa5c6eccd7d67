"""Serving the built UI (``invoke ui.build`` writes it into ``ui_build/``) as a single-page app.

Real files are served as they are; any other GET path outside ``/api`` gets ``index.html`` so
that the UI's client-side router can handle deep links. Without a build, ``/`` explains how to
make one.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

UI_BUILD_DIR = Path(__file__).resolve().parent / "ui_build"

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flowdesk</title></head>
<body><h1>flowdesk</h1>
<p>The UI is not built. Run <code>invoke ui.build</code>, then restart the server.</p>
<p>The API is running: see <a href="/api/docs">/api/docs</a>.</p></body></html>
"""


def mount_ui(app: FastAPI, build_dir: Path) -> None:
    """Add the UI routes; call it after the API routers so they are matched first."""
    build_dir = build_dir.resolve()
    index = build_dir / "index.html"
    if not index.is_file():

        @app.get("/", include_in_schema=False)
        def ui_not_built() -> HTMLResponse:
            return HTMLResponse(NOT_BUILT_PAGE)

        return

    @app.get("/{path:path}", include_in_schema=False)
    def ui(path: str) -> FileResponse:
        if path == "api" or path.startswith("api/"):
            raise HTTPException(404, "Not Found")
        candidate = (build_dir / path).resolve()
        # resolve() collapses "..": a path that leaves the build folder falls back to the index.
        if candidate.is_relative_to(build_dir) and candidate.is_file():
            return FileResponse(candidate)
        return FileResponse(index)
