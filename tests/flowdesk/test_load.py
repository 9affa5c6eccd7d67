"""More concurrent requests than threads and pooled connections: every one is answered."""

from __future__ import annotations

import asyncio

import anyio
import httpx
from process_support import LOOPBACK

from flowdesk.server.api import app as app_module
from flowdesk.server.api import create_app

REQUESTS = 24


def _app_with_small_pools(database_url: str, monkeypatch):  # type: ignore[no-untyped-def]
    """One pooled connection that a waiting request gives up on after 5 s."""
    real = app_module.make_engine

    def small(url: str, **options):  # type: ignore[no-untyped-def]
        if "pool_size" not in options:
            options.update(pool_size=1, max_overflow=0, pool_timeout=5)
        return real(url, **options)

    monkeypatch.setattr(app_module, "make_engine", small)
    return create_app(database_url)


async def _get_all(app, paths: list[str], threads: int) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Status and place in the order of answers of each GET, sent at once to ``app`` with
    ``threads`` worker threads."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    answered = 0

    async def timed(client: httpx.AsyncClient, path: str) -> tuple[int, int]:
        nonlocal answered
        response = await client.get(path)
        answered += 1
        return response.status_code, answered

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=LOOPBACK) as client:
        with anyio.fail_after(120):
            return await asyncio.gather(*(timed(client, path) for path in paths))


def test_requests_beyond_the_threads_and_connections_are_all_answered(
    database_url, monkeypatch
) -> None:
    """A session closed on a worker thread returned its connection only once a thread was free,
    and the threads were all taken by requests waiting for a connection: 500s after the pool's
    wait (200 clients on SQLite: 39 x 500, 115 still waiting after 60 s)."""
    app = _app_with_small_pools(database_url, monkeypatch)
    results = asyncio.run(_get_all(app, ["/api/flows"] * REQUESTS, threads=2))
    assert [code for code, _ in results] == [200] * REQUESTS


def test_health_answers_while_every_thread_is_busy(database_url, monkeypatch) -> None:
    """/api/health is what an orchestrator restarts the server by: it must not queue behind
    requests for the threadpool (it took 48 s under 200 clients)."""
    import threading

    app = _app_with_small_pools(database_url, monkeypatch)
    release = threading.Event()

    async def main() -> tuple[int, bool]:  # (status, answered while the thread was held)
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with (
            anyio.create_task_group() as tasks,
            httpx.AsyncClient(transport=transport, base_url=LOOPBACK) as client,
        ):
            tasks.start_soon(anyio.to_thread.run_sync, release.wait)  # the only thread, held
            await anyio.sleep(0)
            try:
                with anyio.move_on_after(10):
                    response = await client.get("/api/health")
                    return response.status_code, not release.is_set()
                return 0, False  # no answer while the thread was held
            finally:
                release.set()

    assert asyncio.run(main()) == (200, True)


def test_the_served_app_runs_sync_endpoints_on_a_few_threads(database_url) -> None:
    """anyio's 40 threads fought over the GIL with the event loop: fewer answers, slow health."""
    from fastapi.testclient import TestClient

    from flowdesk.server.api.app import API_THREADS

    with TestClient(create_app(database_url), base_url=LOOPBACK) as client:
        assert client.get("/api/flows").status_code == 200
        threads = client.portal.call(
            lambda: anyio.to_thread.current_default_thread_limiter().total_tokens
        )
    assert threads == API_THREADS < 40
