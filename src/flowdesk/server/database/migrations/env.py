"""Alembic environment, shared by the installed application and the contributors' tools.

contribkit (which generates and checks the migrations, at development time only) marks its runs
with ``contribkit_dialect`` and configures the context itself, so what it generates is what it
always generated. Every other run, ``flowdesk server database ...`` above all, goes through
flowdesk's own runtime and needs no contribkit.
"""

from alembic import context

if "contribkit_dialect" in context.config.attributes:
    from contribkit.env import run_env

    run_env()
else:
    from flowdesk.server.database.alembic_env import run_migrations

    run_migrations(context)
