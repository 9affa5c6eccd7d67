"""What the pure ASGI middlewares share: a JSON answer sent by hand, and a replayed body."""

from __future__ import annotations

import json
from typing import Any


async def send_json(
    send: Any, status: int, detail: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer ``{"detail": detail}`` with ``status``, as the API's own errors look."""
    content = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def replay(messages: list[dict[str, Any]], receive: Any) -> Any:
    """A ``receive`` that gives ``messages`` first (a body already read), then the real one."""

    async def replayed() -> dict[str, Any]:
        return messages.pop(0) if messages else await receive()

    return replayed
