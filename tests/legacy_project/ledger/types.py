"""The project's own column types: one decorator over another, as real projects layer them."""

import json

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


class Document(sa.types.TypeDecorator):
    """JSON stored as JSONB on PostgreSQL and as SQLite's JSON elsewhere."""

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        return dialect.type_descriptor(sa.JSON())


class Tags(sa.types.TypeDecorator):
    """A list of strings, kept sorted, stored as a Document."""

    impl = Document
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return sorted(value) if isinstance(value, list) else value

    def process_result_value(self, value, dialect):
        return value if value is None or isinstance(value, list) else json.loads(value)
