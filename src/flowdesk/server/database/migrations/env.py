"""Alembic environment: contribkit configures the context for every dialect."""

from contribkit.migrations.runtime import run_env

run_env()
