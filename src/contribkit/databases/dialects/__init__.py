"""One object per database dialect: what contribkit reads from, and knows about, each one.

``dialect_named("postgresql")`` is the PostgreSQL object. Each reads the parts of a database's
catalogue that Alembic's autogenerate does not compare (see :mod:`.base`), normalized so that
two databases of that dialect compare equal exactly when they hold the same schema.
"""

from __future__ import annotations

from contribkit.databases.dialects.base import Catalogue, Check, Column, Dialect, TableCatalogue
from contribkit.databases.dialects.mysql import MySQL
from contribkit.databases.dialects.postgresql import PostgreSQL
from contribkit.databases.dialects.sqlite import SQLite

__all__ = ["Catalogue", "Check", "Column", "Dialect", "TableCatalogue", "dialect_named"]

_DIALECTS: dict[str, Dialect] = {d.name: d for d in (SQLite(), PostgreSQL(), MySQL())}


def dialect_named(name: str) -> Dialect:
    """The dialect object for a SQLAlchemy dialect name (``sqlite``, ``postgresql``, ``mysql``;
    MariaDB is ``mysql``)."""
    try:
        return _DIALECTS["mysql" if name == "mariadb" else name]
    except KeyError:
        return Dialect()  # an unknown dialect reads nothing: its differences are autogenerate's
