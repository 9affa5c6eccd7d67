"""flowdesk's HTTP API (docs/api.md), built by :func:`create_app`."""

from flowdesk.server.api.app import create_app

__all__ = ["create_app"]
