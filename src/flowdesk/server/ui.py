"""Serving the built UI (``invoke ui.build`` writes it into ``ui_build/``) as a single-page app.

Real files are served as they are. Any other extension-less GET path outside ``/api`` gets
``index.html`` so that the UI's client-side router can handle deep links; a missing file (a path
under ``assets/`` or with an extension) is a 404, so that a stale script reference fails visibly
instead of being answered with HTML. Without a build, ``/`` explains how to make one.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

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
        candidate = build_dir / path
        try:
            # resolve() collapses "..", so a path that leaves the build folder is not a file here.
            candidate = candidate.resolve()
            found = candidate.is_relative_to(build_dir) and candidate.is_file()
        except (ValueError, OSError):  # a NUL byte, a name too long for the file system
            found = False
        if found:
            return FileResponse(candidate)
        if path.startswith("assets/") or PurePosixPath(path).suffix:
            raise HTTPException(404, "Not Found")
        return FileResponse(index)
