"""How the shop connects: its own engine, unless a tool hands env.py a connection."""

import os
from contextlib import contextmanager

import sqlalchemy as sa

URL_ENV = "SHOP_DATABASE_URL"


@contextmanager
def migration_connection(config):
    """The connection to migrate: the one a tool passed (Alembic's cookbook, "Sharing a
    Connection across one or more programmatic migration commands"), else the shop's own."""
    passed = config.attributes.get("connection")
    if passed is not None:
        yield passed
        return
    url = sa.make_url(os.environ.get(URL_ENV, "sqlite:///shop.db"))
    # Its indexes on PostgreSQL are built CONCURRENTLY, which no transaction may hold.
    own = {"isolation_level": "AUTOCOMMIT"} if url.get_backend_name() == "postgresql" else {}
    engine = sa.create_engine(url, **own)
    try:
        with engine.connect() as connection:
            yield connection
            connection.commit()
    finally:
        engine.dispose()
