"""Who may use the API: a Host check against DNS rebinding, and an optional bearer token.

A page on any site can make a browser send requests to ``127.0.0.1``; with a name of its own
that resolves there (DNS rebinding) it can read the answers too, but its requests then carry
its own name in ``Host``. So every request must name an allowed host. The token, when one is
configured, is what a client outside the machine must show: ``Authorization: Bearer <token>``
on every ``/api`` path but the health probe and the API docs, which hold no data.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Collection
from typing import Any

from flowdesk.server.api.asgi import send_json
from flowdesk.settings import ALLOWED_HOSTS_ENV, API_TOKEN_ENV

#: Paths under /api that answer without the token: the orchestrator's probe, and the docs page
#: (a browser loads it without headers; the calls it makes need the token like any other).
OPEN_PATHS = ("/api/health", "/api/docs", "/api/openapi.json")
#: ``name[:port]`` or ``[IPv6][:port]``.
HOST = re.compile(r"(\[[0-9a-f:.]+\]|[^\[\]:@/\s]+)(?::[0-9]*)?")


class AccessControl:
    """ASGI middleware: 400 for a ``Host`` not in ``allowed_hosts`` (``*``: any), 401 for an
    ``/api`` request without ``token`` when one is set."""

    def __init__(self, app: Any, *, allowed_hosts: Collection[str], token: str | None) -> None:
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.allowed_hosts = {host.lower() for host in allowed_hosts}
        self.token = token.encode() if token else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # the app has no websocket routes
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = host_name(headers.get(b"host", b"").decode("latin-1"))
        if not self.any_host and host not in self.allowed_hosts:
            shown = host or "(none)"
            detail = f"host {shown!r} is not allowed: add it to {ALLOWED_HOSTS_ENV}"
            await send_json(send, 400, detail)
            return
        if self.token is not None and _needs_token(scope["path"]):
            given = headers.get(b"authorization", b"")
            scheme, _, credential = given.partition(b" ")
            # compare_digest: the time taken says nothing about how much of a guess was right.
            if scheme.lower() != b"bearer" or not hmac.compare_digest(credential, self.token):
                detail = f"missing or wrong API token: send Authorization: Bearer ${API_TOKEN_ENV}"
                await send_json(send, 401, detail, [(b"www-authenticate", b"Bearer")])
                return
        await self.app(scope, receive, send)


def host_name(header: str) -> str:
    """``Host`` without its port, lower case; ``[::1]:4200`` is ``[::1]``. A value that is not
    a host and an optional port (``[::1]evil``, ``localhost:80@evil``) comes back whole, so it
    matches no allowed name."""
    header = header.strip().lower()
    match = HOST.fullmatch(header)
    return match.group(1) if match else header


def _needs_token(path: str) -> bool:
    if not (path == "/api" or path.startswith("/api/")):
        return False  # the UI's files: the page must load to ask for the token
    return not any(path == p or path.startswith(p + "/") for p in OPEN_PATHS)
