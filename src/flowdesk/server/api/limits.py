"""Caps on request bodies, applied before anything reads them: on each one's size, on how many
large ones are held at once, and on how long a client may take to send one."""

from __future__ import annotations

from typing import Any

import anyio

from flowdesk.server.api.asgi import replay, send_json

#: Ample for any run (parameters are at most 64 KiB) and for a batch of 1000 logs of a few KiB
#: each; a bigger body is refused before it is read into memory (docs/api.md says so).
MAX_BODY_BYTES = 8 * 1024 * 1024
#: A body above this (or sent in chunks) waits for one of LARGE_BODIES slots: 30 requests of
#: 8 MiB at once took the server from 94 to 350 MB; queued, memory stays bounded.
LARGE_BODY_BYTES = 256 * 1024
LARGE_BODIES = 4
#: How long such a body may take to arrive once it has a slot (else 408), and how long it may
#: wait for one (else 503): four clients that stall mid-body would otherwise hold every slot.
BODY_SECONDS = 30.0
SLOT_WAIT_SECONDS = 30.0


class BodySizeLimit:
    """ASGI middleware: 413 for a body over ``limit`` bytes, declared (Content-Length) or sent
    in chunks; a large or chunked one is read whole in a slot, then replayed to the app."""

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
        # With Transfer-Encoding the server reads chunks whatever Content-Length says, so a
        # declared length is believed only without it (a small one smuggled 60 MiB past).
        if b"transfer-encoding" not in headers:
            if declared is None:  # a GET; or a server (HTTP/2) that sends bodies without one
                await self._read_then_call(scope, receive, send)
                return
            if not declared.isdigit() or int(declared) <= self.large:
                await self.app(scope, receive, send)  # a small body, held to its length
                return
            if int(declared) > self.limit:
                await send_json(send, 413, f"request body larger than {self.limit} bytes")
                return
        with anyio.move_on_after(SLOT_WAIT_SECONDS) as waiting:
            await self.slots.acquire()
        if waiting.cancelled_caught:
            detail = "too many large request bodies at once: retry shortly"
            await send_json(send, 503, detail, [(b"retry-after", b"5")])
            return
        try:
            await self._read_then_call(scope, receive, send)
        finally:
            self.slots.release()

    async def _read_then_call(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await self._read(send, receive)
        if body is not None:
            await self.app(scope, replay([body], receive), send)

    async def _read(self, send: Any, receive: Any) -> dict[str, Any] | None:
        """The whole body as one message (or the client's going away), or None once answered."""
        chunks: list[bytes] = []
        size = 0
        with anyio.move_on_after(BODY_SECONDS):
            while True:
                message = await receive()
                if message["type"] != "http.request":  # the client went away
                    return message
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > self.limit:
                    await send_json(send, 413, f"request body larger than {self.limit} bytes")
                    return None
                if not message.get("more_body", False):
                    return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        detail = f"request body not received within {BODY_SECONDS:.0f} s"
        await send_json(send, 408, detail, [(b"connection", b"close")])
        return None
