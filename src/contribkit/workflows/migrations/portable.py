"""A revision that every dialect runs (the shared layout): how it is written.

Autogenerate compares the models with one database and writes what that dialect needs. For a
history every dialect runs, the written file must hold for all of them:

- a column's type is what the first dialect stores, with a ``with_variant`` for each other
  dialect that stores something else, each rendered by that dialect's own Alembic renderer;
- a type that only one dialect has (``postgresql.JSONB`` with no SQLite variant) is refused,
  naming the column, before anything is written;
- statements only one dialect understands (SQLite's ``PRAGMA foreign_keys``, PostgreSQL's
  ``DROP TYPE``) are written behind a test of the dialect the revision runs on.

The file needs neither contribkit nor the project to run: only Alembic and SQLAlchemy.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.autogenerate.render import _repr_type
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url

from contribkit.core.errors import UsageError
from contribkit.workflows.migrations.storedtypes import stored_type


class DialectSQLOp(ops.MigrateOperation):
    """SQL that runs only on ``dialect``: rendered as ``op.execute`` behind a dialect test."""

    def __init__(self, sqltext: str, dialect: str) -> None:
        self.sqltext = sqltext
        self.dialect = dialect


@renderers.dispatch_for(DialectSQLOp)
def _render_dialect_sql(autogen_context: Any, op: DialectSQLOp) -> list[str]:
    # get_context(), not get_bind(): offline (--sql) runs have a context but no connection.
    prefix = autogen_context.opts.get("alembic_module_prefix") or "op."
    return [
        f"if {prefix}get_context().dialect.name == {op.dialect!r}:",
        f"{prefix}execute({op.sqltext!r})",
        "",  # ends the block (Alembic's printer indents by the colon)
    ]


def render_item(dialects: tuple[str, ...], own: Any) -> Any:
    """A ``render_item`` hook writing every type for ``dialects``; other items go to the
    project's own hook ``own`` (if any)."""

    def hook(type_: str, obj: Any, autogen_context: Any) -> str | bool:
        if type_ == "type":
            return portable_type(obj, dialects, autogen_context)
        return own(type_, obj, autogen_context) if own is not None else False

    return hook


def portable_type(type_: Any, dialects: tuple[str, ...], autogen_context: Any) -> str:
    """``type_`` as Python source that stores, on each of ``dialects``, what the models store
    there: the generating dialect's type, with a variant for each dialect that differs."""

    first = autogen_context.dialect.name
    texts = {}
    for name in (first, *(d for d in dialects if d != first)):
        local = _offline_context(name, autogen_context.opts)
        texts[name] = _repr_type(stored_type(type_, local.dialect), local)
        autogen_context.imports.update(local.imports)
    variants = "".join(
        f".with_variant({text}, {name!r})" for name, text in texts.items() if text != texts[first]
    )
    return texts[first] + variants


def _offline_context(dialect: str, opts: dict[str, Any]) -> Any:
    """An Alembic autogenerate context for ``dialect`` without a database, with the render
    options of the real one (module prefixes) and no ``render_item`` (this module is it)."""

    prefixes = ("sqlalchemy_module_prefix", "alembic_module_prefix", "user_module_prefix")
    context = MigrationContext.configure(
        dialect_name=dialect, opts={key: opts[key] for key in prefixes if key in opts}
    )
    return AutogenContext(context, autogenerate=False)


def require_portable_types(upgrade_ops: list[Any], dialects: tuple[str, ...]) -> None:
    """Refuse a column whose type, on one of ``dialects``, is another dialect's own type."""

    for op in upgrade_ops:
        for column, type_ in _column_types(op):
            for name in dialects:
                stored = stored_type(type_, make_url(f"{name}://").get_dialect()())
                owner = _dialect_of(type(stored))
                if owner is not None and owner != name:
                    kind = f"{owner}.{type(stored).__name__}"
                    raise UsageError(
                        f"{op.table_name}.{column} is {kind}, which {name} does not have, "
                        "and a shared revision runs on every dialect: give the model's type a "
                        f"variant, e.g. sa.JSON().with_variant({kind}(), {owner!r})."
                    )


def _column_types(op: Any) -> list[tuple[str, Any]]:
    """(column name, type) for each column ``op`` creates or retypes."""
    if isinstance(op, ops.CreateTableOp):
        return [(c.name, c.type) for c in op.columns if hasattr(c, "type")]
    if isinstance(op, ops.AddColumnOp):
        return [(op.column.name, op.column.type)]
    if isinstance(op, ops.AlterColumnOp) and op.modify_type is not None:
        return [(op.column_name, op.modify_type)]
    return []


def _dialect_of(cls: type) -> str | None:
    """``postgresql`` for ``sqlalchemy.dialects.postgresql.json.JSONB``; ``None`` for a type
    every dialect has (a dialect's re-export of a generic type is the generic class itself)."""
    parts = cls.__module__.split(".")
    if parts[:2] == ["sqlalchemy", "dialects"] and len(parts) > 2:
        return parts[2]
    return None
