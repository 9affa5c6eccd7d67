"""Save a SQLite database to a file and fill an empty one from it (SQLite's backup API)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def _path(url: str) -> str:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError(f"not a SQLite file: {url}")
    return database


def _copy(source: Path, target: str) -> None:
    """Copy a database with SQLite's own backup API: consistent even if a write is open."""
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


def dump(url: str, target: Path) -> None:
    _copy(Path(_path(url)), str(target))


def restore(source: Path, url: str) -> None:
    """Replace the database at ``url`` with ``source``; refused unless it is a sound SQLite
    database (a 0-byte or torn file is not)."""
    if not source.is_file() or source.stat().st_size == 0:
        raise ValueError("the state is not a SQLite database")
    target = _path(url)
    # Into a file beside it first: a failed copy leaves the database as it was.
    _copy(source, f"{target}.restoring")
    try:
        check = sqlite3.connect(f"{target}.restoring")
        try:
            verdict = check.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            check.close()
        if verdict != "ok":
            raise ValueError(f"the state is damaged ({verdict})")
        os.replace(f"{target}.restoring", target)
    finally:
        Path(f"{target}.restoring").unlink(missing_ok=True)


def empty(url: str) -> None:
    """Make the database at ``url`` an empty one again."""
    with open(_path(url), "wb"):
        pass
