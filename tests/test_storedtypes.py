"""stored_type: what a column stores on one dialect, named by a public SQLAlchemy class."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from contribkit.migrations.storedtypes import stored_type


class Document(sa.types.TypeDecorator):
    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect):  # type: ignore[no-untyped-def]
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        return dialect.type_descriptor(sa.JSON())


class Tags(sa.types.TypeDecorator):
    """A project decorator whose implementation is another project decorator."""

    impl = Document
    cache_ok = True


class Stamp(sa.types.TypeDecorator):
    impl = sa.DateTime(timezone=True)
    cache_ok = True


@pytest.mark.parametrize(
    ("type_", "dialect", "expected"),
    [
        (Tags(), postgresql.dialect(), postgresql.JSONB),
        (Tags(), sqlite.dialect(), sqlite.JSON),
        (Tags().with_variant(sa.Text(), "sqlite"), sqlite.dialect(), sa.Text),
        (Stamp(), postgresql.dialect(), sa.DateTime),
    ],
)
def test_a_chain_of_project_decorators_ends_at_a_public_class(type_, dialect, expected) -> None:
    stored = stored_type(type_, dialect)
    assert type(stored) is expected
