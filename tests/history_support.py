"""Projects with a long migration history, for the tests of long histories and the growth figures
(`nox -s bench` measures the same ones).

Revision 1 creates ``TABLES`` tables; each later revision adds one nullable column to one of
them, round-robin. Files, notes and models are written as contribkit itself would write them
(SQLite files bracketed by the PRAGMAs, one notes entry per change), but without generating each
one, which would take minutes for 300 revisions.
"""

from __future__ import annotations

from pathlib import Path

from contribkit.core.config import DIALECT_LABELS
from contribkit.workflows.scaffold import ENV_PY, SCRIPT_TEMPLATE

TABLES = 5
PREFIX = {"sqlite": "a", "postgresql": "b", "mysql": "c"}


def _rev(dialect: str, n: int) -> str:
    return f"{PREFIX[dialect]}{n:011x}"


def _columns(table: int, upto: int) -> list[int]:
    """Numbers of the columns table ``table`` has after revision ``upto``."""
    return [n for n in range(2, upto + 1) if n % TABLES == table]


def _body(dialect: str, statements: list[str]) -> str:
    if dialect == "sqlite":
        statements = [
            'op.execute("PRAGMA foreign_keys=OFF")',
            *statements,
            'op.execute("PRAGMA foreign_keys=ON")',
        ]
    return "\n    ".join(statements)


def _revision_file(dialect: str, n: int) -> str:
    down = repr(_rev(dialect, n - 1)) if n > 1 else "None"
    if n == 1:
        up = [
            f'op.create_table("t{t}", sa.Column("id", sa.Integer(), primary_key=True), '
            f'sa.Column("name", sa.String(40), nullable=True))'
            for t in range(TABLES)
        ]
        down_ops = [f'op.drop_table("t{t}")' for t in range(TABLES)]
    else:
        table = n % TABLES
        if dialect == "sqlite":
            up = [
                f'with op.batch_alter_table("t{table}") as batch_op:\n'
                f'        batch_op.add_column(sa.Column("c{n}", sa.Integer(), nullable=True))'
            ]
            down_ops = [
                f'with op.batch_alter_table("t{table}") as batch_op:\n        batch_op.drop_column("c{n}")'
            ]
        else:
            up = [f'op.add_column("t{table}", sa.Column("c{n}", sa.Integer(), nullable=True))']
            down_ops = [f'op.drop_column("t{table}", "c{n}")']
    return f'''"""add c{n}

Revision ID: {_rev(dialect, n)}
Revises: {_rev(dialect, n - 1) if n > 1 else ""}
"""

import sqlalchemy as sa
from alembic import op

revision = {_rev(dialect, n)!r}
down_revision = {down}
branch_labels = None
depends_on = None


def upgrade() -> None:
    {_body(dialect, up)}


def downgrade() -> None:
    {_body(dialect, list(reversed(down_ops)))}
'''


def models_source(revisions: int, extra_column: bool = False) -> str:
    lines = ["import sqlalchemy as sa", "", "metadata = sa.MetaData()", ""]
    for t in range(TABLES):
        columns = [
            f'    sa.Column("c{n}", sa.Integer(), nullable=True),' for n in _columns(t, revisions)
        ]
        if extra_column and t == 0:
            columns.append('    sa.Column("pending", sa.Integer(), nullable=True),')
        lines += [
            f't{t} = sa.Table("t{t}", metadata,',
            '    sa.Column("id", sa.Integer(), primary_key=True),',
            '    sa.Column("name", sa.String(40), nullable=True),',
            *columns,
            ")",
            "",
        ]
    return "\n".join(lines)


def write_project(
    root: Path, revisions: int, dialects: tuple[str, ...] = ("sqlite", "postgresql")
) -> Path:
    """A project with ``revisions`` revisions per dialect, its models at head, notes complete."""
    (root / "grown").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.contribkit]\nmodels = "grown.models:metadata"\nmigrations = "migrations"\n'
        f'dialects = {list(dialects)!r}\nnotes = "NOTES.md"\n'.replace("'", '"')
    )
    (root / "grown" / "__init__.py").write_text("")
    (root / "grown" / "models.py").write_text(models_source(revisions))
    migrations = root / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "env.py").write_text(ENV_PY)
    (migrations / "script.py.mako").write_text(SCRIPT_TEMPLATE)
    notes = ["# Migration notes", ""]
    for n in range(revisions, 0, -1):
        notes += [
            f"## Add c{n}",
            "",
            *(f"{DIALECT_LABELS[d]}: `{_rev(d, n)}`" for d in dialects),
            "",
        ]
    (root / "NOTES.md").write_text("\n".join(notes))
    for dialect in dialects:
        folder = migrations / "versions" / dialect
        folder.mkdir()
        for n in range(1, revisions + 1):
            (folder / revision_name(dialect, n)).write_text(_revision_file(dialect, n))
    return root


def append_revision(root: Path, n: int) -> None:
    """Revision ``n`` for each dialect (after ``n - 1``), its notes entry, and the models at it."""
    (root / "grown" / "models.py").write_text(models_source(n))
    dialects = [d for d in PREFIX if (root / "migrations" / "versions" / d).is_dir()]
    for dialect in dialects:
        (root / "migrations" / "versions" / dialect / revision_name(dialect, n)).write_text(
            _revision_file(dialect, n)
        )
    notes = root / "NOTES.md"
    entry = [f"## Add c{n}", "", *(f"{DIALECT_LABELS[d]}: `{_rev(d, n)}`" for d in dialects), ""]
    head, _, rest = notes.read_text().partition("\n\n")
    notes.write_text("\n\n".join([head, "\n".join(entry) + "\n" + rest]))


def revision_name(dialect: str, n: int) -> str:
    return f"2026_01_01_{n:06d}_{_rev(dialect, n)}_add_c{n}.py"
