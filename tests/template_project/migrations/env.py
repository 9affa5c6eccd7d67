from __future__ import with_statement

from logging.config import fileConfig

from alembic import context

from shop.database import migration_connection
from shop.models import metadata

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name)

target_metadata = metadata


def run_migrations_online():
    with migration_connection(config) as connection:
        context.configure(connection=connection, target_metadata=target_metadata)

        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
