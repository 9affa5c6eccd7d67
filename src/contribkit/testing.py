"""Databases for a project's test suite: migrated to head once, then cloned for every test.

The template is built with the project's own migrations (so every test run also proves they
apply), on the same provider ``migrate`` uses: a SQLite file copied per test, or a PostgreSQL
``CREATE DATABASE … TEMPLATE`` on the process's one embedded server. Under pytest-xdist each
worker process has its own server, so workers never share a database.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from contribkit.config import ProjectConfig


class MigratedDatabases:
    def __init__(self, config: ProjectConfig, dialect: str) -> None:
        self.config = config
        self.dialect = config.dialect(dialect)
        self._folder: Path | None = None
        self._template: str | None = None

    def _build_template(self) -> str:
        from alembic import command
        from sqlalchemy.pool import NullPool

        from contribkit.databases import create_engine, postgres_server, unique_name
        from contribkit.migrations.layout import project_migrations

        migrations = project_migrations(self.config, (self.dialect,))
        if self.dialect == "sqlite":
            self._folder = Path(tempfile.mkdtemp(prefix="ck-tests-"))
            url = f"sqlite:///{self._folder / 'template.sqlite'}"
            name = str(self._folder / "template.sqlite")
        else:
            name = unique_name("tmpl")
            url = postgres_server().create_database(name).render_as_string(hide_password=False)
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                command.upgrade(
                    migrations.alembic_config(self.dialect, connection=connection), "heads"
                )
        finally:
            engine.dispose()
        return name

    @contextmanager
    def clone(self) -> Iterator[str]:
        """Yield the URL of a fresh database at head; it is removed afterwards."""
        from contribkit.databases import postgres_server, unique_name

        if self._template is None:
            self._template = self._build_template()
        if self.dialect == "sqlite":
            assert self._folder is not None
            path = self._folder / f"{unique_name('test')}.sqlite"
            shutil.copyfile(self._template, path)
            try:
                yield f"sqlite:///{path}"
            finally:
                path.unlink(missing_ok=True)
        else:
            server = postgres_server()
            name = unique_name("test")
            url = server.create_database(name, template=self._template)
            try:
                yield url.render_as_string(hide_password=False)
            finally:
                server.drop_database(name)

    def close(self) -> None:
        from contribkit.databases import postgres_server

        if self._template is not None and self.dialect == "postgresql":
            postgres_server().drop_database(self._template)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        self._template = None
