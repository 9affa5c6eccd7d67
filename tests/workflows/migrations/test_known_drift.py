"""Accepted drift kept out of what migrate writes (baseline.without_known_drift)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.dialects import sqlite

from contribkit.workflows.migrations.baseline import without_known_drift
from contribkit.workflows.migrations.describe import accepted_line, describe, flatten
from contribkit.workflows.migrations.schemadiff import Extra

# What check recorded for a column its own comparison finds different in two ways.
KNOWN = frozenset(
    {"alter column apikey.created_at (type TIMESTAMP -> DATETIME, server default now())"}
)


def script(*altered: ops.AlterColumnOp) -> ops.MigrationScript:
    new = ops.AddColumnOp("folder", sa.Column("new_column", sa.String(), nullable=True))
    upgrade = ops.UpgradeOps(
        [
            ops.ModifyTableOps("folder", [new]),
            *(ops.ModifyTableOps(a.table_name, [a]) for a in altered),
        ]
    )
    return ops.MigrationScript("x", upgrade, upgrade.reverse())


def alter(column: str = "created_at", **change: object) -> ops.AlterColumnOp:
    return ops.AlterColumnOp("apikey", column, existing_type=sa.DateTime(timezone=True), **change)


def written(migration: ops.MigrationScript) -> list[str]:
    return [describe(op, sqlite.dialect()) for op in flatten(migration.upgrade_ops)]


def test_part_of_an_accepted_column_difference_is_not_written() -> None:
    """Autogenerate under the project's env.py may see less of the difference than the check
    did (a type it deems equal): what it sees is still the accepted drift."""
    migration = script(alter(modify_server_default=sa.text("now()")))
    without_known_drift(migration, KNOWN, sqlite.dialect())
    assert written(migration) == ["add column folder.new_column VARCHAR"]
    assert [describe(op) for op in flatten(migration.downgrade_ops)] == [
        "drop column folder.new_column"
    ]


def test_another_change_to_that_column_or_another_column_is_written() -> None:
    migration = script(
        alter(modify_nullable=False), alter("name", modify_server_default=sa.text("now()"))
    )
    without_known_drift(migration, KNOWN, sqlite.dialect())
    assert written(migration) == [
        "add column folder.new_column VARCHAR",
        "alter column apikey.created_at (NOT NULL)",
        "alter column apikey.name (server default now())",
    ]


def test_contribkits_own_comparison_drops_part_of_an_accepted_difference() -> None:
    """What autogenerate does not compare (a server default) is compared by contribkit: its
    operation for part of an accepted column difference is not written either (Langflow)."""
    extra = Extra()
    extra.add(alter(modify_server_default=sa.text("now()")))
    extra.add(alter(modify_server_default=sa.text("now()"), modify_nullable=False))
    kept = extra.without(KNOWN, sqlite.dialect())
    assert kept.lines(sqlite.dialect()) == [
        "alter column apikey.created_at (NOT NULL, server default now())"
    ]


@pytest.mark.parametrize(
    ("line", "accepted"),
    [
        ("alter column apikey.created_at (server default now())", True),
        ("alter column apikey.created_at (type TIMESTAMP -> DATETIME)", True),
        ("alter column apikey.created_at (NOT NULL)", False),
        ("alter column apikey.created_at (server default now(), NOT NULL)", False),
        ("alter column apikey.updated_at (server default now())", False),
        ("add column apikey.created_at DATETIME", False),
    ],
)
def test_a_line_left_after_a_revision_is_matched_the_same_way(line: str, accepted: bool) -> None:
    """What verify finds left after the new revision ran (the server default gone, the type
    difference still there) is the accepted drift too."""
    assert accepted_line(line, KNOWN) is accepted
