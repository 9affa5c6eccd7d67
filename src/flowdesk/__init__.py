"""flowdesk: a small flow-run tracking server."""
