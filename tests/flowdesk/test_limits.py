"""The caps on bodies: how many large ones are handled at once, and SIGTERM's bounded wait."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from process_support import free_port

from flowdesk.cli import GRACEFUL_SECONDS
from flowdesk.server.api.limits import LARGE_BODIES, LARGE_BODY_BYTES, BodySizeLimit

SENT = 30  # the trial's count
FLOWDESK = str(Path(sys.executable).parent / "flowdesk")


def test_large_bodies_wait_for_a_slot_small_ones_and_gets_do_not() -> None:
    """30 bodies of 8 MiB at once took the server from 94 to 350 MB: at most LARGE_BODIES are
    read and handled at a time; the rest wait (and are answered), everything else goes by."""
    inside = 0
    most = 0
    release = asyncio.Event()

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        nonlocal inside, most
        while (await receive()).get("more_body"):
            pass
        inside += 1
        most = max(most, inside)
        if scope["path"] == "/large":
            await release.wait()
        inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def main() -> tuple[list[int], list[int], int]:
        transport = httpx.ASGITransport(app=BodySizeLimit(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            large = b"x" * (LARGE_BODY_BYTES + 1)
            waiting = [
                asyncio.create_task(client.post("/large", content=large)) for _ in range(SENT)
            ]
            for _ in range(50):
                await asyncio.sleep(0)
            held = most
            # With every slot taken, small bodies and GETs are still answered.
            small = [
                (await client.post("/small", content=b"x" * 100)).status_code,
                (await client.get("/small")).status_code,
            ]
            release.set()
            answers = [(await task).status_code for task in waiting]
        return small, answers, held

    small, answers, held = asyncio.run(main())
    assert held == LARGE_BODIES < SENT
    assert small == [200, 200]
    assert answers == [200] * SENT


@pytest.mark.dialects("sqlite")  # the server's behaviour, not the database's
def test_sigterm_waits_a_bounded_time_for_a_client_that_trickles(shared_database_url) -> None:
    port = free_port()
    env = {**os.environ, "FLOWDESK_DATABASE_URL": shared_database_url}
    server = subprocess.Popen(
        [FLOWDESK, "server", "start", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None and time.monotonic() < deadline, server.communicate()
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/health")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", port)) as slow:
            slow.sendall(
                b"POST /api/flows HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
            )
            time.sleep(0.5)  # a negative wait: the request is in flight, not yet answered
            server.send_signal(signal.SIGTERM)
            stopped = time.monotonic()
            while server.poll() is None and time.monotonic() - stopped < GRACEFUL_SECONDS + 30:
                slow.sendall(b" ")  # a byte now and then: never done, never idle
                time.sleep(0.5)
    finally:
        if server.poll() is None:
            server.kill()
        printed, _ = server.communicate(timeout=60)
    assert server.returncode is not None and server.returncode != -signal.SIGKILL, printed


async def _call(middleware: BodySizeLimit, headers: list[tuple[bytes, bytes]], receive):  # type: ignore[no-untyped-def]
    """The status ``middleware`` answers a POST with ``headers`` whose body ``receive`` gives."""
    sent: list[dict] = []  # type: ignore[type-arg]

    async def send(message: dict) -> None:  # type: ignore[type-arg]
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/flows", "headers": headers}
    await middleware(scope, receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


async def _ok(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def test_a_small_length_beside_chunked_encoding_is_not_believed() -> None:
    """h11 reads the chunks whatever Content-Length says: 9 MiB came in as "10 bytes"."""
    chunks = [b"x" * 1024 * 1024] * 9

    async def receive() -> dict:  # type: ignore[type-arg]
        return {"type": "http.request", "body": chunks.pop(), "more_body": bool(chunks)}

    headers = [(b"content-length", b"10"), (b"transfer-encoding", b"chunked")]
    assert asyncio.run(_call(BodySizeLimit(_ok), headers, receive)) == 413


def test_a_body_that_stalls_is_408_and_gives_its_slot_back(monkeypatch) -> None:
    from flowdesk.server.api import limits

    monkeypatch.setattr(limits, "BODY_SECONDS", 0.2)

    async def stalls() -> dict:  # type: ignore[type-arg]
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def main() -> tuple[int, int]:
        middleware = BodySizeLimit(_ok)
        chunked = [(b"transfer-encoding", b"chunked")]
        first = await _call(middleware, chunked, stalls)
        return first, middleware.slots.value

    assert asyncio.run(main()) == (408, LARGE_BODIES)


def test_a_body_that_finds_every_slot_taken_for_too_long_is_503(monkeypatch) -> None:
    from flowdesk.server.api import limits

    monkeypatch.setattr(limits, "SLOT_WAIT_SECONDS", 0.2)

    async def main() -> int:
        middleware = BodySizeLimit(_ok)
        for _ in range(LARGE_BODIES):
            await middleware.slots.acquire()  # held by stalled uploads

        async def body() -> dict:  # type: ignore[type-arg]
            return {"type": "http.request", "body": b"{}", "more_body": False}

        return await _call(middleware, [(b"transfer-encoding", b"chunked")], body)

    assert asyncio.run(main()) == 503
