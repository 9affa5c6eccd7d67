"""The MySQL review rules on operations alone (test_mysql.py runs them through migrate on a real
server): each rule fires on its hazard and stays quiet on its look-alike."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.dialects import mysql

from contribkit.workflows.migrations.mysqlreview import mysql_hazards
from contribkit.workflows.migrations.review import review_operations

CI = "utf8mb4_general_ci"


def models() -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "t",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("long", sa.String(800)),
        sa.Column("short", sa.String(100)),
        sa.Column("binary_name", mysql.VARCHAR(50, collation="utf8mb4_bin")),
        sa.Column("body", sa.Text),
    )
    return metadata


def texts(leaf_ops: list, collation: str = CI) -> list[str]:
    return [str(c) for c in mysql_hazards(leaf_ops, models(), collation)]


def test_an_index_key_over_3072_bytes_and_an_unprefixed_text_key_are_flagged() -> None:
    [long_key] = texts([ops.CreateIndexOp("ix_long", "t", ["long"])])
    assert "the key is 3200 bytes in utf8mb4" in long_key
    assert texts([ops.CreateIndexOp("ix_short", "t", ["short"])]) == []  # 400 bytes
    [text_key] = texts([ops.CreateIndexOp("ix_body", "t", ["body"])])
    assert "cannot index TEXT/BLOB column body without a prefix length" in text_key


def test_a_unique_key_on_existing_rows_is_flagged_under_a_case_insensitive_collation() -> None:
    unique = ops.CreateUniqueConstraintOp("uq_short", "t", ["short"])
    [found] = texts([unique])
    assert "under the case-insensitive collation utf8mb4_general_ci" in found
    assert texts([unique], "utf8mb4_bin") == []  # the database's own collation decides
    binary = ops.CreateUniqueConstraintOp("uq_binary", "t", ["binary_name"])
    assert texts([binary]) == []  # so does the column's


def test_not_null_without_default_is_said_to_fill_rows_on_mysql_not_to_fail() -> None:
    add = ops.AddColumnOp("t", sa.Column("flag", sa.Integer, nullable=False))
    on_mysql = [str(c) for c in review_operations([add], "mysql", models=models(), collation=CI)]
    assert any("silently get the type's implicit default" in c for c in on_mysql)
    assert not any("fails on a table with rows" in c for c in on_mysql)
    on_sqlite = [str(c) for c in review_operations([add], "sqlite")]
    assert any("fails on a table with rows" in c for c in on_sqlite)
    with_default = ops.AddColumnOp(
        "t", sa.Column("flag", sa.Integer, nullable=False, server_default="0")
    )
    assert texts([with_default]) == []


def test_a_type_change_copies_the_table_but_a_longer_varchar_does_not() -> None:
    to_bigint = ops.AlterColumnOp(
        "t", "id", existing_type=sa.Integer(), modify_type=sa.BigInteger()
    )
    [copy] = texts([to_bigint])
    assert "MySQL rebuilds t by copying it (ALGORITHM=COPY)" in copy
    longer = ops.AlterColumnOp(
        "t", "short", existing_type=sa.String(100), modify_type=sa.String(200)
    )
    assert texts([longer]) == []
    to_text = ops.AlterColumnOp("t", "short", existing_type=sa.String(100), modify_type=sa.Text())
    assert len(texts([to_text])) == 1


def test_several_operations_are_flagged_as_not_transactional_sql_statements_aside() -> None:
    adds = [ops.AddColumnOp("t", sa.Column(f"c{n}", sa.Integer)) for n in range(2)]
    [found] = texts(adds)
    assert found.startswith("dialect hazard: 2 operations, and MySQL commits each DDL statement")
    assert texts([adds[0], ops.ExecuteSQLOp("SELECT 1")]) == []
