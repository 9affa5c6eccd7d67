"""Who may use the API: the Host check, the optional token, and what `server start` warns of."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from process_support import LOOPBACK, free_port

from flowdesk import settings
from flowdesk.server.api import create_app

FLOWDESK = str(Path(sys.executable).parent / "flowdesk")
TOKEN = "s3cret-token"


def names_of_flows(client: TestClient) -> list[str]:
    return [flow["name"] for flow in client.get("/api/flows").json()["items"]]


def test_a_request_naming_another_host_is_refused_before_it_acts(database_url) -> None:
    """A DNS-rebinding page's requests carry its own name: nothing it sends may act."""
    with TestClient(create_app(database_url), base_url=LOOPBACK) as client:
        refused = client.post("/api/flows", json={"name": "x"}, headers={"Host": "evil.example"})
        assert refused.status_code == 400
        assert "'evil.example' is not allowed" in refused.json()["detail"]
        assert "FLOWDESK_ALLOWED_HOSTS" in refused.json()["detail"]
        assert names_of_flows(client) == []
        for host in ("localhost:4200", "127.0.0.1", "[::1]:4200", "LOCALHOST"):
            assert client.get("/api/health", headers={"Host": host}).status_code == 200, host
        # Not a host and a port: loopback with something after it is not loopback.
        for host in (
            "[::1]evil",
            "[::1].evil.example",
            "localhost:evil.example",
            "localhost:80@evil",
        ):
            assert client.get("/api/flows", headers={"Host": host}).status_code == 400, host


def test_the_allowed_hosts_come_from_the_environment_else_the_bind_address(monkeypatch) -> None:
    monkeypatch.delenv(settings.ALLOWED_HOSTS_ENV, raising=False)
    assert settings.allowed_hosts("127.0.0.1") == list(settings.LOOPBACK_NAMES)
    assert settings.allowed_hosts("::1") == list(settings.LOOPBACK_NAMES)
    assert settings.allowed_hosts("0.0.0.0") == ["*"]
    assert settings.allowed_hosts("flowdesk.internal") == ["*"]
    monkeypatch.setenv(settings.ALLOWED_HOSTS_ENV, " flowdesk.internal, ,localhost ")
    assert settings.allowed_hosts("0.0.0.0") == ["flowdesk.internal", "localhost"]


def test_with_a_token_every_api_call_needs_it(database_url) -> None:
    app = create_app(database_url, api_token=TOKEN)
    with TestClient(app, base_url=LOOPBACK) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            refused = client.post("/api/flows", json={"name": "x"}, headers=headers)
            assert refused.status_code == 401, headers
            assert refused.headers["www-authenticate"] == "Bearer"
            assert "FLOWDESK_API_TOKEN" in refused.json()["detail"]
        shown = {"Authorization": f"Bearer {TOKEN}"}
        assert client.post("/api/flows", json={"name": "x"}, headers=shown).status_code == 201
        assert client.get("/api/flows", headers=shown).json()["total"] == 1
        # The probe, the docs page and the UI's files answer without it; they hold no data.
        for path in ("/api/health", "/api/docs", "/api/openapi.json"):
            assert client.get(path).status_code == 200, path
        assert client.get("/api/flowsx").status_code == 401  # not a prefix match of an open path


def test_an_empty_token_in_the_environment_is_no_token(database_url, monkeypatch) -> None:
    monkeypatch.setenv(settings.API_TOKEN_ENV, "")
    with TestClient(create_app(database_url), base_url=LOOPBACK) as client:
        assert client.get("/api/flows").status_code == 200
    monkeypatch.setenv(settings.API_TOKEN_ENV, TOKEN)
    with TestClient(create_app(database_url), base_url=LOOPBACK) as client:
        assert client.get("/api/flows").status_code == 401


def serve(database_url: str, host: str, **env: str) -> tuple[int, str, str]:
    """``flowdesk server start --host host`` with ``env``: the status of a GET /api/flows from
    a page elsewhere, of one naming loopback, and what the server printed."""
    port = free_port()
    environment = {**os.environ, "FLOWDESK_DATABASE_URL": database_url, **env}
    command = [FLOWDESK, "server", "start", "--host", host, "--port", str(port)]
    server = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}/api/flows"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None and time.monotonic() < deadline, server.communicate()
            try:
                elsewhere = httpx.get(url, headers={"Host": "evil.example"}).status_code
                break
            except httpx.TransportError:
                time.sleep(0.1)
        loopback = httpx.get(url).status_code
    finally:
        server.send_signal(signal.SIGTERM)
        printed, _ = server.communicate(timeout=60)
    assert server.returncode == 0, printed
    return elsewhere, loopback, printed


@pytest.mark.dialects("sqlite")
def test_server_start_on_loopback_answers_loopback_names_only(shared_database_url) -> None:
    elsewhere, loopback, err = serve(shared_database_url, "127.0.0.1")
    assert (elsewhere, loopback) == (400, 200)
    assert "no API token" not in err


@pytest.mark.dialects("sqlite")
def test_server_start_elsewhere_warns_without_a_token(shared_database_url) -> None:
    elsewhere, loopback, err = serve(shared_database_url, "0.0.0.0")
    assert (elsewhere, loopback) == (200, 200)  # reached by names it cannot know
    assert "listening on 0.0.0.0 with no API token" in err
    assert "FLOWDESK_API_TOKEN" in err

    elsewhere, loopback, err = serve(shared_database_url, "0.0.0.0", FLOWDESK_API_TOKEN=TOKEN)
    assert (elsewhere, loopback) == (401, 401)
    assert "no API token" not in err


def test_a_token_is_read_without_surrounding_whitespace(monkeypatch) -> None:
    """A Secret made from a file ends in a newline; the header a client sends arrives stripped."""
    monkeypatch.setenv(settings.API_TOKEN_ENV, f" {TOKEN}\n")
    assert settings.api_token() == TOKEN
