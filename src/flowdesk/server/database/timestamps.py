"""Timestamps in UTC, whatever the dialect stores.

PostgreSQL's ``timestamptz`` keeps the instant; SQLite (text) and MySQL (``DATETIME``) keep
wall-clock digits, and SQLAlchemy writes a datetime's digits while dropping its offset. So every
datetime that reaches the database is converted to UTC first, and a naive one read back is UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime; a naive ``value`` is taken to be UTC already.

    Raises ValueError (which pydantic reports as a validation error) when the instant lies
    outside years 1..9999 in UTC, e.g. ``0001-01-01T00:00+01:00``.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError as exc:
        raise ValueError(f"{value.isoformat()} is out of range once converted to UTC") from exc


class UtcTimestamp(sa.types.TypeDecorator[datetime]):
    """A timezone-aware column whose values are aware UTC datetimes going in and coming out.

    Without it the ORM reads naive datetimes from SQLite and ones in the session's time zone
    from PostgreSQL, and a non-UTC datetime written to SQLite would be stored with the wrong
    instant. Migrations see the ``DateTime(timezone=True)`` it stores; MySQL's ``DATETIME``
    keeps no zone (UTC is written, as on SQLite) and would drop the microseconds without
    ``fsp=6``.
    """

    impl = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql")
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        # Only datetimes go through the UTC conversion: in `column + timedelta(...)` the other
        # side is an interval, which DateTime itself knows how to bind.
        if isinstance(value, datetime):
            return self
        return self.impl_instance.coerce_compared_value(op, value)
