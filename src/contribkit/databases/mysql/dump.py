"""Save a MySQL database to a file and fill an empty one from it, with nothing but the driver.

``mysqldump`` is a separate client package that a machine with only the server lacks, so a
dump here is JSON: each table's ``SHOW CREATE TABLE`` and its rows, every value tagged with its
Python type so that it comes back as it went (bytes, decimals, dates, times).

A state may have travelled (a CI cache, a shared folder), so the file is data, never code: it is
restored only if every statement is one ``CREATE TABLE`` of the table it names, with nothing
after its columns but the table options ``SHOW CREATE TABLE`` writes, and every row only values
(:func:`load`); anything else (a ``SELECT … INTO OUTFILE``, a second statement, an executable
comment, ``DATA DIRECTORY``) is refused before a statement runs.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_DECODERS = {
    "b": base64.b64decode,
    "d": decimal.Decimal,
    "dt": dt.datetime.fromisoformat,
    "da": dt.date.fromisoformat,
    "t": dt.time.fromisoformat,
    "td": lambda s: dt.timedelta(microseconds=int(s)),
}


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return ["b", base64.b64encode(bytes(value)).decode()]
    if isinstance(value, decimal.Decimal):
        return ["d", str(value)]
    if isinstance(value, dt.datetime):  # before date: a datetime is a date too
        return ["dt", value.isoformat()]
    if isinstance(value, dt.date):
        return ["da", value.isoformat()]
    if isinstance(value, dt.time):
        return ["t", value.isoformat()]
    if isinstance(value, dt.timedelta):
        return ["td", str(value // dt.timedelta(microseconds=1))]
    raise ValueError(f"cannot save a {type(value).__name__} value")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        tag, text = value
        return _DECODERS[tag](text)
    return value


_CREATE = re.compile(r"CREATE TABLE `(?P<name>[^`]+)` \(")
#: The table options SHOW CREATE TABLE writes after the columns: no DATA/INDEX DIRECTORY, no
#: UNION, no PARTITION, no SELECT.
_TABLE_OPTION = re.compile(
    r"\s+(?:DEFAULT )?(?:ENGINE|AUTO_INCREMENT|CHARSET|CHARACTER SET|COLLATE|ROW_FORMAT"
    r"|CHECKSUM|PAGE_CHECKSUM|STATS_PERSISTENT|STATS_AUTO_RECALC|STATS_SAMPLE_PAGES"
    r"|KEY_BLOCK_SIZE|PACK_KEYS|TRANSACTIONAL|COMMENT)="
    r"(?:'(?:[^'\\]|\\.|'')*'|[A-Za-z0-9_]+)"
)
_QUOTED = re.compile(r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"|`(?:[^`]|``)*`")


def _body_end(ddl: str, start: int) -> int:
    """The index just past the parenthesis that closes the one before ``start``, quotes
    skipped; -1 when it is never closed or the text holds a statement end or a comment."""
    depth, index = 1, start
    while index < len(ddl):
        quoted = _QUOTED.match(ddl, index)
        if quoted:
            index = quoted.end()
            continue
        char = ddl[index]
        if char == ";" or ddl.startswith(("/*", "--", "#"), index):
            return -1
        depth += {"(": 1, ")": -1}.get(char, 0)
        index += 1
        if depth == 0:
            return index
    return -1


def _checked_table(table: Any) -> dict[str, Any]:
    """``table`` if it is one CREATE TABLE of its own name and rows of plain values, else
    ValueError."""
    if not isinstance(table, dict) or set(table) != {"name", "ddl", "rows"}:
        raise ValueError("a table entry is not {name, ddl, rows}")
    name, ddl, rows = table["name"], table["ddl"], table["rows"]
    if not isinstance(name, str) or not isinstance(ddl, str) or not isinstance(rows, list):
        raise ValueError("a table entry has values of the wrong kind")
    created = _CREATE.match(ddl)
    if created is None or created["name"] != name:
        raise ValueError(f"the statement for {name!r} is not its CREATE TABLE")
    end = _body_end(ddl, created.end())
    tail = ddl[end:] if end != -1 else None
    if tail is None or _TABLE_OPTION.sub("", tail).strip():
        raise ValueError(f"the CREATE TABLE of {name!r} holds more than a table definition")
    for row in rows:
        if not isinstance(row, list) or not all(_plain(value) for value in row):
            raise ValueError(f"a row of {name!r} holds something other than values")
    return table


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return (
        isinstance(value, list)
        and len(value) == 2
        and value[0] in _DECODERS
        and isinstance(value[1], str)
    )


def load(source: Path) -> list[dict[str, Any]]:
    """The tables saved in ``source``, checked to be data (see the module's docstring)."""
    tables = json.loads(source.read_text(encoding="utf-8"))
    if not isinstance(tables, list):
        raise ValueError("the state is not a list of tables")
    return [_checked_table(table) for table in tables]


@contextmanager
def _connected(url: str) -> Iterator[Any]:
    """A connection to the database at ``url`` through PyMySQL, whatever the project's driver
    (an async one included)."""
    from sqlalchemy.pool import NullPool

    from contribkit.databases.engines import create_engine, with_driver
    from contribkit.databases.mysql.server import DEFAULT_DRIVER

    engine = create_engine(with_driver(url, DEFAULT_DRIVER), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def dump(url: str, target: Path) -> None:
    """Write every table of the database at ``url`` (definition and rows) to ``target``."""
    import sqlalchemy as sa

    tables = []
    with _connected(url) as conn:
        names = conn.execute(
            sa.text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        ).scalars()
        for name in list(names):
            ddl = conn.exec_driver_sql(f"SHOW CREATE TABLE `{name}`").one()[1]
            rows = conn.exec_driver_sql(f"SELECT * FROM `{name}`").all()
            tables.append(
                {"name": name, "ddl": ddl, "rows": [[_encode(v) for v in r] for r in rows]}
            )
        conn.rollback()
    target.write_text(json.dumps(tables), encoding="utf-8")


def restore(source: Path, url: str) -> None:
    """Fill the empty database at ``url`` from ``source``; on failure, drop what was created so
    the database is empty again (MySQL's DDL cannot be rolled back)."""
    tables = load(source)
    created: list[str] = []
    with _connected(url) as conn:
        conn.exec_driver_sql("SET SESSION foreign_key_checks = 0")  # any order, as it was
        try:
            for table in tables:
                conn.exec_driver_sql(table["ddl"])
                created.append(table["name"])
                if table["rows"]:
                    columns = len(table["rows"][0])
                    marks = ", ".join(["%s"] * columns)
                    conn.exec_driver_sql(
                        f"INSERT INTO `{table['name']}` VALUES ({marks})",
                        [tuple(_decode(v) for v in row) for row in table["rows"]],
                    )
            conn.commit()
        except BaseException:
            conn.rollback()
            for name in created:
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS `{name}`")
            raise
        finally:
            conn.exec_driver_sql("SET SESSION foreign_key_checks = 1")


def empty(url: str) -> None:
    """Drop every table and view of the database at ``url``."""
    import sqlalchemy as sa

    with _connected(url) as conn:
        conn.exec_driver_sql("SET SESSION foreign_key_checks = 0")
        found = conn.execute(
            sa.text(
                "SELECT table_name, table_type FROM information_schema.tables "
                "WHERE table_schema = DATABASE()"
            )
        ).all()
        for name, kind in found:
            what = "VIEW" if kind == "VIEW" else "TABLE"
            conn.exec_driver_sql(f"DROP {what} IF EXISTS `{name.replace('`', '``')}`")
