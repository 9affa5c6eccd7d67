"""Caps on request bodies, applied before anything reads them: on each one's size, and on how
many large ones are read and handled at once."""

from __future__ import annotations

import json
from typing import Any

import anyio

#: Ample for any run (parameters are at most 64 KiB) and for a batch of 1000 logs of a few KiB
#: each; a bigger body is refused before it is read into memory (docs/api.md says so).
MAX_BODY_BYTES = 8 * 1024 * 1024
#: A body above this waits for one of LARGE_BODIES slots: 30 requests of 8 MiB at once took the
#: server from 94 to 350 MB; queued, they are answered in turn with memory bounded.
LARGE_BODY_BYTES = 256 * 1024
LARGE_BODIES = 4


class BodySizeLimit:
    """ASGI middleware: 413 for a body over ``limit`` bytes, declared (Content-Length) or sent
    in chunks without one (then it is read up to the limit and replayed to the app)."""

    def __init__(
        self, app: Any, limit: int = MAX_BODY_BYTES, large: int = LARGE_BODY_BYTES
    ) -> None:
        self.app = app
        self.limit = limit
        self.large = large
        self._slots: anyio.Semaphore | None = None  # made in the loop that serves

    @property
    def slots(self) -> anyio.Semaphore:
        if self._slots is None:
            self._slots = anyio.Semaphore(LARGE_BODIES)
        return self._slots

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.limit:
                await self._refuse(send)
                return
            if declared.isdigit() and int(declared) > self.large:
                async with self.slots:  # read and handled in a slot of its own
                    await self.app(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:  # no body at all (a GET)
            await self._chunked(scope, receive, send)
            return
        async with self.slots:  # a body sent in chunks may be large: read in a slot
            await self._chunked(scope, receive, send)

    async def _chunked(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)

    async def _refuse(self, send: Any) -> None:
        content = json.dumps({"detail": f"request body larger than {self.limit} bytes"}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": content})


def _replay(messages: list[dict[str, Any]], receive: Any) -> Any:
    async def replayed() -> dict[str, Any]:
        return messages.pop(0) if messages else await receive()

    return replayed
