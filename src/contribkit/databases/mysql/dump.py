"""Save a MySQL database to a file and fill an empty one from it, with nothing but the driver.

``mysqldump`` is a separate client package that a machine with only the server lacks, so a
dump here is JSON: each table's ``SHOW CREATE TABLE`` and its rows, every value tagged with its
Python type so that it comes back as it went (bytes, decimals, dates, times).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
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


def dump(engine: Any, target: Path) -> None:
    """Write every table of the engine's database (definition and rows) to ``target``."""
    import sqlalchemy as sa

    tables = []
    with engine.connect() as conn:
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


def restore(source: Path, engine: Any) -> None:
    """Fill the engine's empty database from ``source``; on failure, drop what was created so the
    database is empty again (MySQL's DDL cannot be rolled back)."""
    tables = json.loads(source.read_text(encoding="utf-8"))
    created: list[str] = []
    with engine.connect() as conn:
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
