"""``[tool.contribkit]``: where a project tells contribkit about itself.

Only this module reads ``pyproject.toml``; everything else receives a :class:`ProjectConfig`.
Every key has a default so a project can adopt contribkit one feature at a time.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contribkit.core.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: Dialects contribkit can provision and generate for, with the aliases users type.
KNOWN_DIALECTS = ("sqlite", "postgresql", "mysql")
DIALECT_ALIASES = {
    "postgres": "postgresql",
    "pg": "postgresql",
    "sqlite3": "sqlite",
    "mariadb": "mysql",
}
#: A history per dialect (``versions/<dialect>/``, Prefect's) or one every dialect runs
#: (``versions/``, Airflow's and MLflow's).
PER_DIALECT, SHARED = "per-dialect", "shared"
LAYOUTS = (PER_DIALECT, SHARED)
#: Alembic's identifiers, which every revision has: not ``revision_attributes``.
REVISION_IDENTIFIERS = frozenset({"revision", "down_revision", "branch_labels", "depends_on"})
#: The values a ``revision_attributes`` entry may have.
ATTRIBUTE_TYPES = (str, int, float, bool)
#: SQLAlchemy's isolation levels, for ``isolation_level``.
ISOLATION_LEVELS = (
    "AUTOCOMMIT",
    "READ UNCOMMITTED",
    "READ COMMITTED",
    "REPEATABLE READ",
    "SERIALIZABLE",
)
#: How a dialect is named in MIGRATION-NOTES.md (the seed project's convention).
DIALECT_LABELS = {"sqlite": "SQLite", "postgresql": "Postgres", "mysql": "MySQL"}


def normalize_dialect(name: str, allowed: tuple[str, ...] = KNOWN_DIALECTS) -> str:
    """Return the canonical dialect name for ``name`` or raise a one-line :class:`UsageError`."""
    canonical = DIALECT_ALIASES.get(name.strip().lower(), name.strip().lower())
    if canonical not in KNOWN_DIALECTS:
        hints = [repr(a) for a in ("postgres", "mariadb") if DIALECT_ALIASES[a] in allowed]
        also = f" (or {', '.join(hints)})" if hints else ""
        raise UsageError(f"unknown dialect {name!r}: choose one of {', '.join(allowed)}{also}.")
    if canonical not in allowed:
        raise UsageError(
            f"dialect {canonical!r} is not configured for this project: "
            f"[tool.contribkit] dialects = {list(allowed)}."
        )
    return canonical


@dataclass(frozen=True)
class Key:
    """One key of ``[tool.contribkit]``: its type, its default and what it is for."""

    name: str
    #: ``str``, ``path`` (relative to the project), ``int``, ``bool``, ``strings`` (a list of
    #: strings, e.g. a command's argv), ``dialects``, ``drivers`` (a dialect → driver table),
    #: ``isolation`` (a dialect → isolation level table), ``start`` (a dialect → revision and
    #: schema table) or ``layout`` (one of :data:`LAYOUTS`).
    kind: str
    default: object
    doc: str
    #: What a command that needs the key and finds none tells the user to write.
    example: str | None = None

    @property
    def attr(self) -> str:
        """The :class:`ProjectConfig` field: ``ui`` and ``static`` name folders."""
        return {"ui": "ui_dir", "static": "static_dir"}.get(self.name, self.name)


#: Every key, in docs/configuration.md's order (a test keeps its block in step).
KEYS = (
    Key(
        "models",
        "models",
        None,
        "import path of the MetaData (or a list of them: one per storage)",
        "'package.module:Base.metadata'",
    ),
    Key(
        "migrations",
        "path",
        None,
        "holds env.py and versions/",
        "'path', then run 'contribkit init'",
    ),
    Key(
        "layout",
        "layout",
        None,
        "per-dialect (versions/<dialect>/) or shared (versions/); default: what versions/ holds",
    ),
    Key(
        "dialects",
        "dialects",
        KNOWN_DIALECTS,
        "the dialects revisions are made for (aliases: postgres, mariadb)",
    ),
    Key("notes", "path", "MIGRATION-NOTES.md", "the migration notes file"),
    Key(
        "base_schema",
        "str",
        None,
        "a MetaData an empty database gets before the first revision (history after create_all)",
    ),
    Key(
        "start",
        "start",
        {},
        "per dialect, where its databases start: {revision = id, schema = a frozen MetaData} "
        "or {revision = id, command = the project's set-up command, with {url}}",
    ),
    Key(
        "seed_rows",
        "str",
        None,
        "table → row factory (n → column values) for rows the seeder cannot make",
        "'package.module:ROWS'",
    ),
    Key("database_url_env", "env", "DATABASE_URL", "the real database's URL variable (db.*)"),
    Key("default_database_url", "str", None, "the real database when that variable is unset"),
    Key("exclude_tables", "strings", (), "tables autogenerate, verification and check ignore"),
    Key(
        "drivers",
        "drivers",
        {},
        "throw-away databases' drivers, per dialect (default: pysqlite, psycopg 3, PyMySQL)",
    ),
    Key(
        "isolation_level",
        "isolation",
        {},
        "how revisions run, per dialect: an isolation level (AUTOCOMMIT for CONCURRENTLY)",
    ),
    Key("sqlite_transactional_ddl", "bool", False, "SQLite DDL in transactions (explicit BEGIN)"),
    Key(
        "guarded",
        "bool",
        False,
        "migrate guards each operation by existence (new databases: create_all, then every revision)",
    ),
    Key(
        "revision_attributes",
        "attributes",
        {},
        "module attributes new revisions set (default: those every revision sets, the head's value)",
    ),
    Key(
        "file_template",
        "str",
        None,
        "how new revision files are named, if not as alembic.ini says: Alembic's tokens, "
        "%(number).4d and module attributes",
    ),
    Key("baseline", "path", "contribkit-baseline.toml", "written by `contribkit baseline`"),
    Key(
        "alembic_ini",
        "path",
        None,
        "the project's alembic.ini, whose file_template (or else Alembic's <rev>_<slug>) names "
        "new revision files (default: alembic.ini in the project or the migrations folder)",
    ),
    Key("name", "str", None, "the manifest's names and default image", "'myapp'"),
    Key("ui", "path", None, "the UI's npm project", "'ui'"),
    Key("static", "path", None, "where ui.build puts the built UI", "'src/myapp/ui_build'"),
    Key("ui_checks", "strings", ("test",), "the npm scripts that test the UI"),
    Key("app", "str", None, "the app factory dev.api serves", "'package.module:create_app'"),
    Key(
        "worker", "strings", None, "the command dev.worker restarts", "['myapp', 'worker', 'start']"
    ),
    Key("watch", "strings", ("src",), "the folders dev.* watch"),
    Key("upgrade", "strings", None, "the manifest's init step (a migration command)"),
    Key("api_port", "port", 8000, "dev.api's port, and the manifest's"),
    Key("health_path", "str", "/health", "the manifest's probes"),
    Key(
        "api_token_env",
        "env",
        None,
        "the app's API token variable: the manifest fills it from a Secret",
    ),
    Key(
        "allowed_hosts_env",
        "env",
        None,
        "the app's allowed-Host-names variable: the manifest sets the Service's names",
    ),
)
KEYS_BY_NAME = {key.name: key for key in KEYS}
#: What a shell, and so every process manager and Kubernetes, accepts as a variable's name.
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ProjectConfig:
    """The resolved ``[tool.contribkit]`` table, with paths made absolute. Built only by
    :func:`config_from_table`: the defaults are in :data:`KEYS`."""

    root: Path
    #: One import path of a MetaData, or several (a project with one MetaData per storage).
    models: str | tuple[str, ...] | None
    migrations: Path | None
    #: ``per-dialect``, ``shared``, or ``None``: whatever the migrations folder holds (see
    #: :func:`contribkit.workflows.migrations.layout.project_layout`).
    layout: str | None
    dialects: tuple[str, ...]
    notes: Path
    #: The schema a history starts from, when its first revision expects tables that the
    #: project's own set-up creates with ``create_all`` (an import path of a MetaData).
    base_schema: str | None
    #: Dialect → (revision, "schema", import path of a MetaData) or (revision, "command", the
    #: project's set-up command): that dialect's databases are made by ``create_all`` of the
    #: MetaData, or by the command, and stamped at the revision; earlier ones never run there.
    start: dict[str, tuple[str, str, str]]
    #: Import path of a mapping: table name → ``factory(n)``, the ``n``-th seeded row's values
    #: for the columns the project must decide (JSON its models validate, say).
    seed_rows: str | None
    database_url_env: str
    default_database_url: str | None
    exclude_tables: frozenset[str]
    #: Dialect → SQLAlchemy driver for contribkit's throw-away databases (``aiosqlite``, ``asyncpg``).
    drivers: dict[str, str]
    #: Dialect → the isolation level of the connection revisions run on (``AUTOCOMMIT``).
    isolation_level: dict[str, str]
    #: SQLite connections leave BEGIN to SQLAlchemy (its "transactional DDL" recipe), as engines
    #: that emit their own BEGIN do; an env.py written for such an engine needs it.
    sqlite_transactional_ddl: bool
    #: ``migrate`` writes each operation behind an existence test, and proves the revision on
    #: a database ``create_all`` of the models made (:mod:`~contribkit.workflows.migrations.guards`).
    guarded: bool
    #: Module attribute → the value every new revision sets (``airflow_version = "3.2.0"``).
    revision_attributes: dict[str, object]
    #: How new revision files are named, where the project's own tooling renames what
    #: Alembic writes (``%(number).4d_%(airflow_version)s_%(slug)s``); ``None``: alembic.ini's.
    file_template: str | None
    #: What an adopted history already gets wrong (written by ``contribkit baseline``).
    baseline: Path
    #: The project's own Alembic configuration, for its ``file_template``.
    alembic_ini: Path | None
    name: str | None
    ui_dir: Path | None
    static_dir: Path | None
    ui_checks: tuple[str, ...]
    app: str | None
    worker: tuple[str, ...] | None
    watch: tuple[str, ...]
    upgrade: tuple[str, ...] | None
    api_port: int
    health_path: str
    api_token_env: str | None
    allowed_hosts_env: str | None

    def require(self, key: str) -> Any:
        """The value of ``key``, which the running command cannot do without."""
        value = getattr(self, KEYS_BY_NAME[key].attr)
        if value is None:
            example = KEYS_BY_NAME[key].example
            raise UsageError(f"no {key} configured: set [tool.contribkit] {key} = {example}.")
        return value

    def require_models(self) -> str | tuple[str, ...]:
        return self.require("models")

    def require_migrations(self) -> Path:
        return self.require("migrations")

    def dialect(self, name: str) -> str:
        """Canonical name of ``name``, which must be one of this project's dialects."""
        return normalize_dialect(name, self.dialects)

    def select_dialects(self, name: str | None) -> tuple[str, ...]:
        """``None`` or ``"all"`` means every configured dialect; otherwise exactly one."""
        if name is None or name.strip().lower() == "all":
            return self.dialects
        return (self.dialect(name),)


def find_pyproject(start: Path | None = None) -> Path:
    """The nearest ``pyproject.toml`` at or above ``start`` (default: the current directory)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    raise UsageError(f"no pyproject.toml found in {here} or above: run this inside a project.")


def load_config(start: Path | None = None) -> ProjectConfig:
    """Read ``[tool.contribkit]`` from the nearest ``pyproject.toml``."""
    pyproject = find_pyproject(start)
    raw = pyproject.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:  # TOML is UTF-8 by definition
        line = raw[: exc.start].count(b"\n") + 1
        raise UsageError(f"{pyproject} is not UTF-8 (line {line}): save it as UTF-8.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{pyproject} is not valid TOML: {exc}.") from exc
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise UsageError(f"{pyproject}: tool must be a table ([tool.contribkit] lives in it).")
    table = tool.get("contribkit", {})
    if not isinstance(table, dict):
        raise UsageError(
            f"{pyproject}: tool.contribkit must be a table ([tool.contribkit]), not {table!r}."
        )
    return config_from_table(dict(table), pyproject.parent)


def config_from_table(table: dict[str, object], root: Path) -> ProjectConfig:
    """Build a :class:`ProjectConfig` from a parsed table. Any key not in :data:`KEYS` is an
    error: a typo would otherwise leave the default in force without a word."""
    unknown = sorted(set(table) - set(KEYS_BY_NAME))
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], KEYS_BY_NAME, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(
            f"[tool.contribkit] has no key {unknown[0]!r}{hint}: the keys are "
            f"{', '.join(sorted(KEYS_BY_NAME))} (docs/configuration.md)."
        )
    root = root.resolve()
    values = {key.attr: _convert(key, table.get(key.name, key.default), root) for key in KEYS}
    return ProjectConfig(root=root, **values)


#: The kinds whose empty string leaves the default in force.
_EMPTY_MEANS_DEFAULT = ("str", "env", "models")


def _convert(key: Key, value: object, root: Path) -> object:
    """``value`` as ``key``'s type, or a one-line error naming the key and what it must be."""
    if value is None:
        return None
    if value == "" and key.kind in _EMPTY_MEANS_DEFAULT:  # says nothing (models: none)
        return key.default
    kind = key.kind
    if kind == "layout":
        if value not in LAYOUTS:
            raise UsageError(
                f"[tool.contribkit] layout must be {' or '.join(map(repr, LAYOUTS))}, not {value!r}."
            )
        return value
    if kind == "dialects":
        if not isinstance(value, (list, tuple)) or not value:
            raise UsageError(
                "[tool.contribkit] dialects must be a non-empty list, e.g. ['sqlite']."
            )
        return tuple(dict.fromkeys(normalize_dialect(str(d)) for d in value))
    if kind == "drivers":
        if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
            raise UsageError(
                "[tool.contribkit] drivers must be a table of driver names, "
                "e.g. {sqlite = 'aiosqlite', postgresql = 'asyncpg'}."
            )
        return {normalize_dialect(str(d)): v for d, v in value.items()}
    if kind == "start":
        shape = (
            "[tool.contribkit] start must be a table of dialects, each "
            "{revision = 'id', schema = 'package.module:metadata'} or "
            "{revision = 'id', command = 'the set-up command, with {url}'}"
        )
        if not isinstance(value, dict):
            raise UsageError(f"{shape}, not {value!r}.")
        starts = {}
        for dialect, where in value.items():
            if (
                not isinstance(where, dict)
                or set(where) not in ({"revision", "schema"}, {"revision", "command"})
                or not all(isinstance(v, str) and v for v in where.values())
            ):
                raise UsageError(f"{shape}; {dialect} is {where!r}.")
            made_by = "schema" if "schema" in where else "command"
            starts[normalize_dialect(str(dialect))] = (where["revision"], made_by, where[made_by])
        return starts
    if kind == "isolation":
        if not isinstance(value, dict) or not all(v in ISOLATION_LEVELS for v in value.values()):
            raise UsageError(
                "[tool.contribkit] isolation_level must be a table of isolation levels "
                f"({', '.join(ISOLATION_LEVELS)}), e.g. {{postgresql = 'AUTOCOMMIT'}}."
            )
        return {normalize_dialect(str(d)): v for d, v in value.items()}
    if kind == "attributes":
        if not isinstance(value, dict) or not all(
            isinstance(k, str)
            and k.isidentifier()
            and k not in REVISION_IDENTIFIERS
            and type(v) in ATTRIBUTE_TYPES
            for k, v in value.items()
        ):
            raise UsageError(
                "[tool.contribkit] revision_attributes must be a table of module attribute names "
                "(not Alembic's own: revision, down_revision, branch_labels, depends_on) and "
                "strings, numbers or booleans, e.g. {airflow_version = '3.2.0'}."
            )
        return dict(value)
    if kind == "env":
        if not isinstance(value, str) or not ENV_NAME.fullmatch(value):
            raise UsageError(
                f"[tool.contribkit] {key.name} must name an environment variable (letters, "
                f"digits and '_', not starting with a digit), not {value!r}."
            )
        return value
    if kind == "port":
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
            raise UsageError(
                f"[tool.contribkit] {key.name} must be a port number from 1 to 65535, "
                f"not {value!r}."
            )
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise UsageError(f"[tool.contribkit] {key.name} must be true or false.")
        return value
    if kind == "path":
        if not isinstance(value, str) or not value:
            raise UsageError(f"[tool.contribkit] {key.name} must be a path string, not {value!r}.")
        return (root / value).resolve()
    if kind == "models":
        if isinstance(value, str):
            return value
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise UsageError(
                f"[tool.contribkit] models must be an import path or a list of them, not {value!r}."
            )
        return tuple(value)
    if kind == "strings":
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise UsageError(
                f"[tool.contribkit] {key.name} must be a list of strings, not {value!r}."
            )
        return frozenset(value) if key.name == "exclude_tables" else tuple(value)
    wanted = {"str": str, "int": int}[kind]
    if not isinstance(value, wanted) or isinstance(value, bool):
        article = "an integer" if kind == "int" else "a string"
        raise UsageError(f"[tool.contribkit] {key.name} must be {article}, not {value!r}.")
    return value
