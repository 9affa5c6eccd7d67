"""Swagger UI at ``/api/docs``, served from files installed with flowdesk.

FastAPI's own page loads Swagger UI from a CDN, so it is blank offline or behind a firewall;
``fastapi-offline`` ships the same files (Swagger UI 5, which renders OpenAPI 3.1).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/api/docs"
ASSETS_PATH = "/api/docs/assets"


def mount_docs(app: FastAPI) -> None:
    """Serve the Swagger UI page and its assets; create ``app`` with ``docs_url=None``."""
    assets = Path(str(files("fastapi_offline") / "static"))
    app.mount(ASSETS_PATH, StaticFiles(directory=assets), name="docs-assets")
    openapi_url = app.openapi_url
    assert openapi_url is not None, "the page needs the OpenAPI document"

    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
        )
