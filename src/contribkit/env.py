"""What a project's Alembic ``env.py`` calls (a public module)::

    from contribkit.env import run_env

    run_env()

contribkit then configures the migration context for every dialect: the models, the
connection it passes in (or the URL's own engine), SQLite's batch mode and transactions.
"""

from contribkit.workflows.migrations.runtime import run_project_env as run_env

__all__ = ["run_env"]
