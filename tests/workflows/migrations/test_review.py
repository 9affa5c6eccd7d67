"""The review's classification of operations, on the types autogenerate really produces."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.operations import ops

from contribkit.workflows.migrations.review import (
    DATA_DEPENDENT,
    DESTRUCTIVE,
    RENAME,
    review_operations,
)


def alter(existing: sa.types.TypeEngine, new: sa.types.TypeEngine) -> ops.AlterColumnOp:
    return ops.AlterColumnOp("t", "c", existing_type=existing, modify_type=new)


@pytest.mark.parametrize(
    ("existing", "new", "flagged"),
    [
        (sa.VARCHAR(80), sa.String(120), False),  # reflected VARCHAR vs model String: widening
        (sa.VARCHAR(80), sa.Text(), False),
        (sa.VARCHAR(80), sa.String(), False),
        (sa.VARCHAR(80), sa.String(40), True),
        (sa.TEXT(), sa.String(200), True),
        (sa.INTEGER(), sa.BigInteger(), False),
        (sa.BIGINT(), sa.Integer(), True),
        (sa.VARCHAR(20), sa.Integer(), True),
    ],
)
def test_type_changes(existing, new, flagged: bool) -> None:  # type: ignore[no-untyped-def]
    concerns = review_operations([alter(existing, new)], "sqlite")
    assert any(c.kind == DATA_DEPENDENT for c in concerns) is flagged


def test_not_null_without_server_default_on_an_existing_table() -> None:
    risky = ops.AddColumnOp("t", sa.Column("x", sa.String(5), nullable=False))
    safe = ops.AddColumnOp("t", sa.Column("y", sa.String(5), nullable=False, server_default="a"))
    concerns = review_operations([risky, safe], "postgresql")
    assert [c.kind for c in concerns] == [DATA_DEPENDENT]
    assert "t.x" in concerns[0].text


def test_drop_and_add_of_one_type_is_a_suspected_rename() -> None:
    drop = ops.DropColumnOp.from_column_and_tablename(None, "t", sa.Column("a", sa.String(9)))
    add = ops.AddColumnOp("t", sa.Column("b", sa.String(9)))
    other = ops.AddColumnOp("t", sa.Column("c", sa.Integer()))
    kinds = [c.kind for c in review_operations([drop, add, other], "sqlite")]
    assert kinds.count(DESTRUCTIVE) == 1
    assert kinds.count(RENAME) == 1
