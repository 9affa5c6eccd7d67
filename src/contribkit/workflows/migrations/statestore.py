"""The folder of saved database states, one file pair per state: checked, never trusted.

A state is a database file (a SQLite copy, a PostgreSQL archive, a MySQL JSON dump) and a JSON
file beside it that says what it is. States travel (a CI cache, a shared folder) and files get
damaged, swapped and edited, so a state is used only when all of this holds:

- its description has the shape this module writes, and names the very key it is filed under
  (a state copied over another's name says the other key);
- the database file's SHA-256 is the one recorded when it was saved;
- the dialect's restore accepts it as data (see each ``databases/*dump`` module: nothing in a
  state may run code);
- once restored, the database's Alembic version rows are those recorded, and hold the revision
  the caller expects at that point of its history.

Anything else is one :class:`SnapshotError`, the state is forgotten and the database is left
empty for a replay. States are written whole: temporary files, fsynced, then renamed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import SQLAlchemyError

from contribkit.core.ownership import uninterrupted
from contribkit.databases import sqlite_dump
from contribkit.databases.mysql import dump as mysql_dump
from contribkit.databases.postgresql import dump as postgresql_dump

#: Saved states kept per dialect; enough for a few branches, small for a long history.
KEEP = 8
#: A temporary or unpaired file this old was left by a killed run.
STALE_SECONDS = 3600
#: Each dialect's ``dump(url, target)``, ``restore(source, url)`` and ``empty(url)``.
_FORMATS = {"sqlite": sqlite_dump, "postgresql": postgresql_dump, "mysql": mysql_dump}
_SUFFIX = {"sqlite": "sqlite"}
_FAILURES = (
    OSError,
    ValueError,
    KeyError,
    TypeError,
    sqlite3.Error,
    SQLAlchemyError,
    postgresql_dump.UnsafeState,
)


class SnapshotError(Exception):
    """A state could not be saved or used (the run goes on without it)."""


class CodeHeld(SnapshotError):
    """The database holds code (a function, a trigger …), which no state may hold: the
    dialect's restore would refuse it, so it is not saved."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _described(meta: Any, key: str) -> bool:
    """Whether ``meta`` is a description this module wrote for ``key``."""
    return (
        isinstance(meta, dict)
        and meta.get("key") == key
        and isinstance(meta.get("digest"), str)
        and _strings(meta.get("heads"))
        and isinstance(meta.get("version_table"), list)
        and len(meta["version_table"]) == 2
        and isinstance(meta["version_table"][0], str)
        and _strings(meta.get("problems"))
        and isinstance(meta.get("models"), dict)
        and all(isinstance(v, str) for v in meta["models"].values())
    )


def read_heads(engine: Any, version_table: list[Any]) -> list[str]:
    """The Alembic version rows of the database ``engine`` reaches, sorted."""

    name, schema = version_table
    with engine.connect() as conn:
        opts = {"version_table": name, "version_table_schema": schema}
        heads = MigrationContext.configure(conn, opts=opts).get_current_heads()
        conn.rollback()
    return sorted(heads)


class SnapshotStore:
    """Saved states of one dialect's throw-away databases, by key."""

    def __init__(self, folder: Path, dialect: str) -> None:
        self.folder = folder / dialect
        self.dialect = dialect
        self._format = _FORMATS[dialect]

    def _data(self, key: str) -> Path:
        return self.folder / f"{key}.{_SUFFIX.get(self.dialect, 'dump')}"

    def _meta(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def has(self, key: str) -> bool:
        return self._meta(key).is_file()

    def meta(self, key: str) -> dict[str, Any] | None:
        """What was saved with the state ``key``: ``None`` when there is none, and
        :class:`SnapshotError` when there is one that this module did not write as it is."""
        try:
            text = self._meta(key).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"its description is unreadable ({type(exc).__name__})") from exc
        try:
            meta = json.loads(text)
        except ValueError:
            meta = None
        if not _described(meta, key):
            raise SnapshotError("its description is not one contribkit wrote for it")
        if not self._data(key).is_file():
            raise SnapshotError("its database file is missing")
        return meta  # type: ignore[no-any-return]

    def restore(self, key: str, meta: dict[str, Any], engine: Any, expected: str) -> None:
        """Fill the empty database ``engine`` reaches with the state ``key`` (described by
        ``meta``), which must be at revision ``expected``. On failure the database is empty
        again, the state is forgotten and :class:`SnapshotError` says why."""
        url = engine.url.render_as_string(hide_password=False)
        data = self._data(key)
        try:
            if _sha256(data) != meta["digest"]:
                raise SnapshotError("its database file is not the one saved")
            self._format.restore(data, url)
            heads = read_heads(engine, meta["version_table"])
            if heads != meta["heads"] or expected not in heads:
                self._format.empty(url)
                raise SnapshotError(
                    f"it is at {', '.join(heads) or 'no revision'}, not at {expected}"
                )
        except SnapshotError:
            self.forget(key)
            raise
        except _FAILURES as exc:
            self.forget(key)
            raise SnapshotError(f"{type(exc).__name__}: {exc}") from exc
        with contextlib.suppress(OSError):  # recently used: kept longest (if ours to touch)
            os.utime(self._meta(key))

    def save(self, key: str, engine: Any, version_table: list[Any], meta: dict[str, Any]) -> None:
        """Save the database ``engine`` reaches as ``key``, whole or not at all."""
        if self.has(key):
            return

        data, info = self._data(key), self._meta(key)
        temp_data = temp_info = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temp_data, temp_info = (self._temporary(p) for p in (data, info))
            heads = read_heads(engine, version_table)
            self._format.dump(engine.url.render_as_string(hide_password=False), temp_data)
            described = {
                **meta,
                "key": key,
                "digest": _sha256(temp_data),
                "heads": heads,
                "version_table": list(version_table),
            }
            temp_info.write_text(json.dumps(described), encoding="utf-8")
            for temp in (temp_data, temp_info):
                _fsync(temp)  # on disk before a name says the state exists

            def publish() -> None:
                os.replace(temp_data, data)
                os.replace(temp_info, info)  # last: a state counts once its meta exists

            uninterrupted(publish)  # both names or neither
            _fsync(self.folder)
            self._forget_oldest()
        except postgresql_dump.UnsafeState as exc:
            raise CodeHeld(str(exc)) from exc
        except _FAILURES as exc:
            raise SnapshotError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            for temp in (temp_data, temp_info):
                if temp is not None:
                    temp.unlink(missing_ok=True)

    def forget(self, key: str) -> None:
        """Remove the state ``key`` (its description first: without one it is not a state)."""
        self._meta(key).unlink(missing_ok=True)
        self._data(key).unlink(missing_ok=True)

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
            self.forget(meta.stem)
        stale = time.time() - STALE_SECONDS
        for path in self.folder.iterdir():
            orphan = path.suffix != ".json" and not self._meta(path.stem).exists()
            if (path.suffix == ".tmp" or orphan) and used(path) < stale:
                path.unlink(missing_ok=True)
