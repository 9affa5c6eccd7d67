"""``[tool.contribkit]``: where a project tells contribkit about itself.

Only this module reads ``pyproject.toml``; everything else receives a :class:`ProjectConfig`.
Every key has a default so a project can adopt contribkit one feature at a time.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contribkit.core.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: Dialects contribkit can provision and generate for, with the aliases users type.
KNOWN_DIALECTS = ("sqlite", "postgresql")
DIALECT_ALIASES = {"postgres": "postgresql", "pg": "postgresql", "sqlite3": "sqlite"}
#: How a dialect is named in MIGRATION-NOTES.md (the seed project's convention).
DIALECT_LABELS = {"sqlite": "SQLite", "postgresql": "Postgres"}


def normalize_dialect(name: str, allowed: tuple[str, ...] = KNOWN_DIALECTS) -> str:
    """Return the canonical dialect name for ``name`` or raise a one-line :class:`UsageError`."""
    canonical = DIALECT_ALIASES.get(name.strip().lower(), name.strip().lower())
    if canonical not in KNOWN_DIALECTS:
        raise UsageError(
            f"unknown dialect {name!r}: choose one of {', '.join(allowed)} (or 'postgres')."
        )
    if canonical not in allowed:
        raise UsageError(
            f"dialect {canonical!r} is not configured for this project: "
            f"[tool.contribkit] dialects = {list(allowed)}."
        )
    return canonical


@dataclass(frozen=True)
class ProjectConfig:
    """The resolved ``[tool.contribkit]`` table, with paths made absolute."""

    root: Path
    models: str | None = None
    migrations: Path | None = None
    dialects: tuple[str, ...] = KNOWN_DIALECTS
    notes: Path | None = None
    database_url_env: str = "DATABASE_URL"
    default_database_url: str | None = None
    ui_dir: Path | None = None
    static_dir: Path | None = None
    #: Dialect → SQLAlchemy driver for contribkit's throw-away databases (``aiosqlite``, ``asyncpg``).
    drivers: dict[str, str] = field(default_factory=dict)
    #: What an adopted history already gets wrong (written by ``contribkit baseline``).
    baseline: Path | None = None
    #: SQLite connections leave BEGIN to SQLAlchemy (its "transactional DDL" recipe), as engines
    #: that emit their own BEGIN do; an env.py written for such an engine needs it.
    sqlite_transactional_ddl: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    def require_models(self) -> str:
        if not self.models:
            raise UsageError(
                "no models configured: set [tool.contribkit] models = 'package.module:Base.metadata'."
            )
        return self.models

    def require_migrations(self) -> Path:
        if self.migrations is None:
            raise UsageError(
                "no migrations folder configured: set [tool.contribkit] migrations = 'path', "
                "then run 'contribkit init'."
            )
        return self.migrations

    def option(self, key: str, kind: type, default: object = None) -> Any:
        """A feature's own key from ``extra`` (``app``, ``api_port``…), checked to be a ``kind``.

        ``kind`` is ``str``, ``int`` or ``list`` (a list of strings, e.g. a command's argv).
        """
        value = self.extra.get(key, default)
        if value is None:
            return None
        valid = (
            all(isinstance(item, str) for item in value)
            if kind is list and isinstance(value, list)
            else isinstance(value, kind) and not isinstance(value, bool)
        )
        if not valid:
            wanted = {str: "a string", int: "an integer", list: "a list of strings"}[kind]
            raise UsageError(f"[tool.contribkit] {key} must be {wanted}, not {value!r}.")
        return value

    def require_option(self, key: str, kind: type, example: str) -> Any:
        value = self.option(key, kind)
        if value is None:
            raise UsageError(f"no {key} configured: set [tool.contribkit] {key} = {example}.")
        return value

    @property
    def exclude_tables(self) -> frozenset[str]:
        """Tables that autogenerate, verification and the check leave alone."""
        return frozenset(self.option("exclude_tables", list, []))

    @property
    def api_port(self) -> int:
        """The API's port for the dev servers and the Kubernetes manifest."""
        return self.option("api_port", int, 8000)

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
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{pyproject} is not valid TOML: {exc}.") from exc
    table = dict(data.get("tool", {}).get("contribkit", {}))
    return config_from_table(table, pyproject.parent)


#: The keys features read through :meth:`ProjectConfig.option` (dev servers, UI, manifest...).
FEATURE_KEYS = frozenset(
    [
        "exclude_tables",
        "name",
        "app",
        "worker",
        "upgrade",
        "watch",
        "api_port",
        "health_path",
        "ui_checks",
    ]
)
#: The keys :func:`config_from_table` turns into fields.
FIELD_KEYS = frozenset(
    [
        "models",
        "migrations",
        "dialects",
        "notes",
        "database_url_env",
        "default_database_url",
        "ui",
        "static",
        "drivers",
        "baseline",
        "sqlite_transactional_ddl",
    ]
)


def config_from_table(table: dict[str, object], root: Path) -> ProjectConfig:
    """Build a :class:`ProjectConfig` from a parsed table; features' own keys (``FEATURE_KEYS``)
    are kept in ``extra``, and any other key is an error: a typo would otherwise leave the
    default in force without a word."""
    unknown = sorted(set(table) - FIELD_KEYS - FEATURE_KEYS)
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], FIELD_KEYS | FEATURE_KEYS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(
            f"[tool.contribkit] has no key {unknown[0]!r}{hint}: the keys are "
            f"{', '.join(sorted(FIELD_KEYS | FEATURE_KEYS))} (README: Configuration)."
        )

    def path(key: str) -> Path | None:
        value = table.pop(key, None)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise UsageError(f"[tool.contribkit] {key} must be a path string, not {value!r}.")
        return (root / value).resolve()

    def text(key: str, default: str | None) -> str | None:
        value = table.pop(key, default)
        if value is not None and not isinstance(value, str):
            raise UsageError(f"[tool.contribkit] {key} must be a string, not {value!r}.")
        return value

    raw_dialects = table.pop("dialects", list(KNOWN_DIALECTS))
    if not isinstance(raw_dialects, list) or not raw_dialects:
        raise UsageError("[tool.contribkit] dialects must be a non-empty list, e.g. ['sqlite'].")
    dialects = tuple(dict.fromkeys(normalize_dialect(str(d)) for d in raw_dialects))
    raw_drivers = table.pop("drivers", {})
    if not isinstance(raw_drivers, dict) or not all(
        isinstance(v, str) and v for v in raw_drivers.values()
    ):
        raise UsageError(
            "[tool.contribkit] drivers must be a table of driver names, "
            "e.g. {sqlite = 'aiosqlite', postgresql = 'asyncpg'}."
        )
    drivers = {normalize_dialect(str(d)): v for d, v in raw_drivers.items()}
    transactional_ddl = table.pop("sqlite_transactional_ddl", False)
    if not isinstance(transactional_ddl, bool):
        raise UsageError("[tool.contribkit] sqlite_transactional_ddl must be true or false.")
    return ProjectConfig(
        root=root.resolve(),
        models=text("models", None),
        migrations=path("migrations"),
        dialects=dialects,
        notes=path("notes") or (root / "MIGRATION-NOTES.md").resolve(),
        database_url_env=text("database_url_env", "DATABASE_URL") or "DATABASE_URL",
        default_database_url=text("default_database_url", None),
        ui_dir=path("ui"),
        static_dir=path("static"),
        drivers=drivers,
        baseline=path("baseline") or (root / "contribkit-baseline.toml").resolve(),
        sqlite_transactional_ddl=transactional_ddl,
        extra=table,
    )
