"""Databases for a project's test suite (a public module): migrated to head once, then cloned
for every test (:class:`MigratedDatabases`), or empty and thrown away after
(:func:`ephemeral_database`).

The template is built with the project's own migrations (so every test run also proves they
apply), through its env.py and on its driver for the dialect (an async one too, whose URL the
tests then get), on the same provider ``migrate`` uses: a SQLite file copied per test, a
PostgreSQL ``CREATE DATABASE … TEMPLATE`` on the process's one embedded server, or a MySQL
database the template's tables are copied into. Under pytest-xdist each worker process has its
own server, so workers never share a database.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from contribkit.core.config import ProjectConfig
from contribkit.databases.dialects import dialect_named
from contribkit.databases.throwaway import ephemeral_database

__all__ = ["MigratedDatabases", "ephemeral_database"]


class MigratedDatabases:
    def __init__(self, config: ProjectConfig, dialect: str) -> None:
        self.config = config
        self.dialect = config.dialect(dialect)
        self._folder: Path | None = None
        self._template: str | None = None
        self._built = False
        #: The project's driver for this dialect (``[tool.contribkit] drivers``), if any.
        self._driver: str | None = None

    def _build_template(self) -> None:
        from contribkit.core.signals import deferred_signals
        from contribkit.databases.asyncdrivers import bridged
        from contribkit.databases.engines import with_driver
        from contribkit.databases.throwaway import database_server, unique_name
        from contribkit.workflows.migrations.project import project_migrations
        from contribkit.workflows.migrations.verify import TrialDatabase

        migrations = project_migrations(self.config, (self.dialect,))
        self._driver = migrations.drivers.get(self.dialect)
        # Held, so that close() always knows what to remove, even after a Ctrl-C right here.
        with deferred_signals():
            if dialect_named(self.dialect).database_is_a_file:
                self._folder = Path(tempfile.mkdtemp(prefix="ck-tests-"))
                self._template = str(self._folder / "template.sqlite")
                url = f"sqlite:///{self._template}"
            else:
                self._template = unique_name("tmpl")
                created = database_server(self.dialect).create_database(self._template)
                url = created.render_as_string(hide_password=False)

        # The project's own way: its env.py, its driver (an async one too), its SQLite
        # transaction style, as migrate and check run it.
        @bridged
        def upgrade() -> None:
            with TrialDatabase(migrations, self.dialect, with_driver(url, self._driver)) as db:
                db.upgrade("heads")

        upgrade()
        self._built = True

    @contextmanager
    def clone(self) -> Iterator[str]:
        """Yield the URL of a fresh database at head, on the project's driver for the dialect;
        it is removed afterwards."""
        from contribkit.databases.engines import with_driver
        from contribkit.databases.throwaway import database_server, unique_name

        if not self._built:
            self._build_template()
        assert self._template is not None
        if dialect_named(self.dialect).database_is_a_file:
            assert self._folder is not None
            path = self._folder / f"{unique_name('test')}.sqlite"
            shutil.copyfile(self._template, path)
            try:
                yield with_driver(f"sqlite:///{path}", self._driver)
            finally:
                path.unlink(missing_ok=True)
        else:
            server = database_server(self.dialect)
            name = unique_name("test")
            url = server.create_database(name, template=self._template)
            try:
                yield with_driver(url, self._driver)
            finally:
                server.drop_database(name)

    def close(self) -> None:
        from contribkit.databases.throwaway import database_server

        if self._template is not None and not dialect_named(self.dialect).database_is_a_file:
            database_server(self.dialect).drop_database(self._template)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        self._template, self._folder, self._built = None, None, False
