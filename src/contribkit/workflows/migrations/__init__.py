"""Per-dialect Alembic migrations: generate → review → verify → record, and the drift check."""
