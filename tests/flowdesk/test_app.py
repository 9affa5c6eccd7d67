"""Health, OpenAPI, and the UI served next to the API without shadowing it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from process_support import LOOPBACK

from flowdesk.server.api import create_app

CONTRACT_PATHS = {
    "/api/health",
    "/api/flows",
    "/api/flows/{flow_id}",
    "/api/flow_runs",
    "/api/flow_runs/counts",
    "/api/flow_runs/{run_id}",
    "/api/flow_runs/{run_id}/set_state",
    "/api/flow_runs/{run_id}/task_runs",
    "/api/flow_runs/{run_id}/logs",
}


def test_health(shared_client) -> None:
    response = shared_client.get("/api/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})


def test_health_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    unreachable = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'x.db'}"
    with TestClient(create_app(unreachable), base_url=LOOPBACK) as client:
        response = client.get("/api/health")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "error"
        assert body["database"] and "\n" not in body["database"]
        assert client.get("/api/flows").status_code == 503


def test_openapi_and_swagger_ui(shared_client) -> None:
    schema = shared_client.get("/api/openapi.json").json()
    assert set(schema["paths"]) == CONTRACT_PATHS
    docs = shared_client.get("/api/docs")
    assert docs.status_code == 200
    assert "/api/openapi.json" in docs.text
    # Served from the package, not a CDN: the page must work offline.
    assets = sorted(re.findall(r'(?:src|href)="([^"]+)"', docs.text))
    assert assets == [
        "/api/docs/assets/favicon.png",
        "/api/docs/assets/swagger-ui-bundle.js",
        "/api/docs/assets/swagger-ui.css",
    ]
    for asset in assets:
        response = shared_client.get(asset)
        assert response.status_code == 200 and len(response.content) > 1000, asset
    assert "SwaggerUIBundle" in shared_client.get(assets[1]).text


def test_without_a_build_the_root_says_how_to_build_it(shared_database_url, tmp_path) -> None:
    with TestClient(
        create_app(shared_database_url, ui_dir=tmp_path / "ui_build"), base_url=LOOPBACK
    ) as client:
        response = client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "invoke ui.build" in response.text
        assert client.get("/api/health").json()["status"] == "ok"


@pytest.fixture(scope="module")
def ui_client(shared_database_url, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ui")
    build = root / "ui_build"
    (build / "assets").mkdir(parents=True)
    (build / "index.html").write_text("<!doctype html><title>flowdesk ui</title>")
    (build / "assets" / "app.js").write_text("console.log('flowdesk')")
    (build / "assets" / "app.css").write_text("body { margin: 0 }")
    (root / "secret.txt").write_text("outside the build")
    (root / "secret").write_text("outside the build")
    with TestClient(create_app(shared_database_url, ui_dir=build), base_url=LOOPBACK) as client:
        yield client


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/flow-runs",
        "/flow-runs/123/logs",
        "/..%2Fsecret",  # a file, but outside the build
        "/%00",  # the file system refuses the name (ValueError)
        "/" + "a" * 5000,  # the file system refuses the name (OSError)
    ],
    ids=["root", "route", "deep-route", "outside", "nul", "too-long"],
)
def test_extensionless_paths_get_the_index(ui_client, path) -> None:
    """Client-side routes: whatever the path, the UI's router decides what to show."""
    response = ui_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "flowdesk ui" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/assets/missing.js",
        "/assets/missing",
        "/missing.png",
        "/flow-runs/missing.css",
        "/assets/..%2F..%2Fsecret.txt",
        "/%00.js",
        "/" + "a" * 5000 + ".js",
    ],
    ids=["asset", "asset-no-extension", "file", "nested-file", "outside", "nul", "too-long"],
)
def test_missing_files_are_404_not_the_index(ui_client, path) -> None:
    """A stale script or image reference must fail visibly, not receive HTML."""
    response = ui_client.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    ("path", "content_type", "text"),
    [
        ("/assets/app.js", "javascript", "console.log"),
        ("/assets/app.css", "text/css", "margin"),
    ],
)
def test_real_files_are_served_with_their_type(ui_client, path, content_type, text) -> None:
    response = ui_client.get(path)
    assert response.status_code == 200
    assert content_type in response.headers["content-type"]
    assert text in response.text


def test_the_ui_never_shadows_the_api(ui_client) -> None:
    assert ui_client.get("/api/health").json() == {"status": "ok", "database": "ok"}
    assert "items" in ui_client.get("/api/flows").json()
    assert "swagger-ui" in ui_client.get("/api/docs").text
    assert "paths" in ui_client.get("/api/openapi.json").json()
    for unknown in ("/api", "/api/nope", "/api/flows/x/y"):
        response = ui_client.get(unknown)
        assert response.status_code == 404, unknown
        assert response.headers["content-type"] == "application/json", unknown


@pytest.mark.parametrize(
    "body",
    [b'{"name": "\xff\xfe"}', b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"],
    ids=["invalid-utf-8", "nested-100000-deep"],
)
def test_a_body_the_parser_cannot_read_is_the_400_the_docs_promise(shared_client, body) -> None:
    response = shared_client.post(
        "/api/flows", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "There was an error parsing the body"}
    docs = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    assert "invalid UTF-8, malformed JSON, or nesting deep enough" in docs
    assert 'is a 400 {"detail":"There was an error parsing the body"}' in docs
