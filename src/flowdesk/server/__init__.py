"""The flowdesk server: API, database and the static UI."""
