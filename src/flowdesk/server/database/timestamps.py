"""Timestamps in UTC, whatever the dialect stores.

PostgreSQL's ``timestamptz`` keeps the instant; SQLite keeps text and SQLAlchemy writes a
datetime's wall-clock digits while dropping its offset. So every datetime that reaches the
database is converted to UTC first, and a naive one read back from SQLite is UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime; a naive ``value`` is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
