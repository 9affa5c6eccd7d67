"""How a shared revision writes a column's type: what each dialect stores, no more."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from sqlalchemy.dialects import postgresql

from contribkit.core.errors import UsageError
from contribkit.workflows.migrations.portable import portable_type, require_portable_types

BOTH = ("sqlite", "postgresql")


class NativeUuid(sa.types.TypeDecorator):
    """A project's own type: CHAR(36) on SQLite, the native UUID on PostgreSQL."""

    impl = sa.CHAR(36)
    cache_ok = True

    def load_dialect_impl(self, dialect):  # type: ignore[no-untyped-def]
        native = postgresql.UUID() if dialect.name == "postgresql" else sa.CHAR(36)
        return dialect.type_descriptor(native)


def _context(dialect: str) -> AutogenContext:
    opts = {"sqlalchemy_module_prefix": "sa.", "alembic_module_prefix": "op."}
    return AutogenContext(MigrationContext.configure(dialect_name=dialect, opts=opts))


@pytest.mark.parametrize(
    ("type_", "written"),
    [
        (sa.String(20), "sa.String(length=20)"),
        (sa.Enum("a", "b", name="e"), "sa.Enum('a', 'b', name='e')"),
        (NativeUuid(), "sa.CHAR(length=36).with_variant(sa.UUID(), 'postgresql')"),
        (
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            "sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')",
        ),
    ],
)
def test_each_dialect_gets_what_it_stores(type_, written) -> None:  # type: ignore[no-untyped-def]
    context = _context("sqlite")
    assert portable_type(type_, BOTH, context) == written
    if "postgresql." in written:
        assert "from sqlalchemy.dialects import postgresql" in context.imports


def test_the_generating_dialect_comes_first() -> None:
    text = portable_type(NativeUuid(), BOTH, _context("postgresql"))
    assert text == "sa.UUID().with_variant(sa.CHAR(length=36), 'sqlite')"


def test_a_type_one_dialect_lacks_is_refused_naming_the_column() -> None:
    column = sa.Column("addr", postgresql.INET())
    with pytest.raises(UsageError, match=r"^host\.addr is postgresql\.INET, which sqlite"):
        require_portable_types([ops.AddColumnOp("host", column)], BOTH)
    require_portable_types([ops.AddColumnOp("host", column)], ("postgresql",))  # alone: fine
