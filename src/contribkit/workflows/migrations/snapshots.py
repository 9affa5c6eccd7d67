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
did not shape. States that git tracks are never used (:func:`project._cache_folder`).

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
import inspect
import os
import sys
import sysconfig
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.schema import CreateTable

import contribkit
from contribkit.core import reporting
from contribkit.databases.dialects import dialect_named
from contribkit.workflows.migrations.setupcommand import SetUpCommand
from contribkit.workflows.migrations.statestore import CodeHeld, SnapshotError, SnapshotStore
from contribkit.workflows.migrations.storedtypes import stored_type

#: Under the project's ``.contribkit`` folder (which git ignores from inside).
CACHE_FOLDER = "cache"


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
        migrations.isolation_levels.get(dialect, ""),
        env_text,
        imported_sources(env_text),
        _data_files(migrations.versions(dialect)),
        _base_schema(migrations.base_metadata, engine.dialect),
        _start(migrations.start(dialect), engine.dialect),
        _row_factories(migrations.row_factories),
    )


def _row_factories(factories: Any) -> str:
    """The project's ``seed_rows``: its tables and the source files of their factories (the
    rows a state holds came from them)."""

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

    return "\n".join(str(CreateTable(t).compile(dialect=dialect)) for t in metadata.sorted_tables)


def _start(start: Any, dialect: Any) -> str:
    """The revision a dialect's databases start at and their schema's DDL or the command that
    makes them (empty: base)."""
    if start is None:
        return ""
    revision, made_by = start
    if isinstance(made_by, SetUpCommand):
        return extend(revision, f"command {made_by.text}")
    return extend(revision, _base_schema(made_by, dialect))


def _server(engine: Any) -> str:
    """The server's build and the database's encoding and collation (they decide what a
    revision's DDL and a unique constraint do), or SQLite's library version."""

    with engine.connect() as connection:
        return dialect_named(connection.dialect.name).server_identity(connection)


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


class HistoryCache:
    """One dialect's saved states, and the key of each step of its history."""

    def __init__(
        self, store: SnapshotStore, root: str, revisions: list[Any], metadata: Any, dialect: Any
    ) -> None:
        self.store = store
        self.root = root
        self.digests = [revision_digest(rev.path) for rev in revisions]
        #: Each step's revision id (the state after it must be there) and file name.
        self.revisions = [rev.revision for rev in revisions]
        self.names = [Path(rev.path).name for rev in revisions]
        self.metadata = metadata
        self.dialect = dialect  # SQLAlchemy's, for the types the models store
        self._told_code_held = False

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
            revisions,
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

    def stamp(self, columns: Any) -> dict[str, str]:
        """What today's models say of ``columns`` (see :func:`models_stamp`)."""
        return models_stamp(self.metadata, self.dialect, sorted(columns))

    def resume(self, keys: list[str | None], db: Any, done: str) -> tuple[int, dict[str, Any]]:
        """Fill the empty database of ``db`` (a TrialDatabase) with the furthest usable state
        among ``keys`` and say so (``done``: what the earlier run did with those revisions, e.g.
        "proven"). Returns how many revisions it covers and what was saved with it; ``(0, {})``
        when there is none (the database is then still empty). A state that fails a check is
        one line, is removed, and the next older one is tried."""

        for index in range(len(keys) - 1, -1, -1):
            key = keys[index]
            if key is None:
                continue
            try:
                meta = self.store.meta(key)
                if meta is None or meta["models"] != self.stamp(meta["models"]):
                    continue  # none, or rows the models would now make otherwise
                self._check_problems(meta["problems"], index)
                self.store.restore(key, meta, db.engine, self.revisions[index])
            except SnapshotError as exc:
                self.store.forget(key)
                reporting.info(
                    f"a state in the cache could not be used ({exc}); it is removed",
                    self.store.dialect,
                )
                continue
            reporting.info(
                f"{index + 1} of {len(keys)} revisions {done} by an earlier run (cache)",
                self.store.dialect,
            )
            return index + 1, meta
        return 0, {}

    def _check_problems(self, problems: list[str], index: int) -> None:
        """Problems saved with the state at ``index`` each name one of the revisions it covers."""
        names = tuple(f"{name}: " for name in self.names[: index + 1])
        stray = [line for line in problems if not line.startswith(names)]
        if stray:
            raise SnapshotError(f"a problem it lists names no revision it covers: {stray[0]!r}")

    def save(self, key: str | None, db: Any, problems: list[str], consulted: set[str]) -> None:
        """Save the state of ``db`` (a TrialDatabase) with the problems found on the way to it
        and the model columns its rows came from. A failure only costs the next run time: it is
        reported, not raised."""
        if key is None:
            return

        meta = {"problems": problems, "models": self.stamp(consulted)}
        try:
            self.store.save(key, db.engine, list(db.version_table), meta)
        except CodeHeld as exc:
            if not self._told_code_held:  # once a run: the states after it mostly hold it too
                self._told_code_held = True
                reporting.info(
                    f"a state is not kept in the cache where {exc}: a state may hold no code "
                    "(docs/caching.md)",
                    self.store.dialect,
                )
        except SnapshotError as exc:
            reporting.info(f"could not save to the cache ({exc})", self.store.dialect)
