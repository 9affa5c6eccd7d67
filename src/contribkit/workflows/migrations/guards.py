"""Existence guards: each operation of a revision runs only where the database needs it.

A project whose new databases are ``create_all`` of today's models followed by *every*
revision (Langflow's), or whose one history runs on several databases that each hold some of
the tables, guards each operation by what the database holds: a column is added where its
table lacks it, an index dropped where it exists. ``guarded = true`` has ``migrate`` write
its revisions so; the guards read the database through SQLAlchemy's inspector, so the file
runs with plain Alembic and nothing of contribkit's. Offline (``--sql``) every operation is
written, as for a database at the previous head.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.render import render_op
from alembic.operations import ops

#: The inspector method that lists a constraint type's names (DropConstraintOp's ``type_``).
_CONSTRAINT_LISTS = {
    "foreignkey": "get_foreign_keys",
    "unique": "get_unique_constraints",
    "check": "get_check_constraints",
}


class GuardedOp(ops.MigrateOperation):
    """``inner``, run only where the database needs it (see :func:`_condition`)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner


@renderers.dispatch_for(GuardedOp)
def _render_guarded(autogen_context: Any, op: GuardedOp) -> list[str]:
    alembic = autogen_context.opts.get("alembic_module_prefix") or "op."
    sa = autogen_context.opts.get("sqlalchemy_module_prefix") or "sa."
    # A new inspector for each test: one made earlier caches what the operations since changed.
    condition = _condition(op.inner, f"{sa}inspect({alembic}get_bind())")
    return [
        f"if {alembic}get_context().as_sql or ({condition}):",
        *render_op(autogen_context, op.inner),
        "",  # ends the block (Alembic's printer indents by the colon)
    ]


def guard(container: Any) -> None:
    """Put each operation of ``container`` (an upgrade or downgrade, batches included) that
    creates or drops a table, column, index or named constraint behind its existence test.
    Others (a column's type or default, SQL statements) are left as they are: run again on a
    database that has them already, they change nothing, or verification says they do."""
    container.ops = [_guarded(op) for op in container.ops]


def _guarded(op: Any) -> Any:
    if isinstance(op, ops.ModifyTableOps):
        op.ops = [_guarded(inner) for inner in op.ops]
        return op
    return GuardedOp(op) if _condition(op, "inspector") else op


def _condition(op: Any, inspector: str) -> str | None:
    """The test, over the expression ``inspector``, under which ``op`` must run; ``None``
    for an operation it has no test for. Operations on a table run where the table exists:
    a history that serves several databases skips those that do not hold it."""
    if isinstance(op, ops.CreateTableOp):
        return f"not {inspector}.has_table({op.table_name!r}{_schema(op.schema)})"
    if isinstance(op, ops.DropTableOp):
        return f"{inspector}.has_table({op.table_name!r}{_schema(op.schema)})"
    table = getattr(op, "table_name", None)
    if table is None:
        return None
    if isinstance(op, ops.AddColumnOp | ops.DropColumnOp):
        name, method = (
            (op.column.name if isinstance(op, ops.AddColumnOp) else op.column_name),
            "get_columns",
        )
    elif isinstance(op, ops.CreateIndexOp | ops.DropIndexOp):
        name, method = op.index_name, "get_indexes"
    elif isinstance(op, ops.AddConstraintOp | ops.DropConstraintOp):
        name, method = op.constraint_name, _CONSTRAINT_LISTS.get(op.constraint_type or "")
    else:
        return None
    if not name or method is None:
        return None
    creates = isinstance(op, ops.AddColumnOp | ops.CreateIndexOp | ops.AddConstraintOp)
    schema = _schema(op.schema)
    names = f'[found["name"] for found in {inspector}.{method}({table!r}{schema})]'
    test = f"{name!r} {'not in' if creates else 'in'} {names}"
    return f"{inspector}.has_table({table!r}{schema}) and {test}"


def _schema(schema: str | None) -> str:
    return f", schema={schema!r}" if schema else ""
