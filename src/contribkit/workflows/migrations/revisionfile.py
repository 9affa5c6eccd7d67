"""What a revision file's ``upgrade()`` names, read from its source without running it.

``check`` meets revisions as files (``migrate`` has their operations): which existing tables a
revision changes decides which must hold rows while it is verified; which columns, tables,
indexes and constraints it changes decides whether ``rebase`` can put it after another
branch's revisions.
"""

from __future__ import annotations

import ast
import re
import tokenize
from pathlib import Path

#: Alembic operation → the position of its table argument (keywords are read by name).
_TABLE_ARGUMENT = {
    "add_column": 0,
    "drop_column": 0,
    "alter_column": 0,
    "batch_alter_table": 0,
    "rename_table": 0,
    "create_table_comment": 0,
    "drop_table_comment": 0,
    "create_index": 1,
    "drop_index": 1,
    "create_unique_constraint": 1,
    "create_check_constraint": 1,
    "create_primary_key": 1,
    "create_foreign_key": 1,
    "create_exclude_constraint": 1,
    "drop_constraint": 1,
}
_TABLE_KEYWORDS = ("table_name", "source_table", "old_table_name")


def source(path: Path) -> str:
    """A revision's text, decoded as Python decodes it when Alembic imports the file (UTF-8, or
    the encoding its ``# -*- coding: … -*-`` line declares): whatever runs is also what is read."""
    with tokenize.open(path) as handle:
        return handle.read()


def touched_tables(path: Path) -> frozenset[str]:
    """The tables ``upgrade()`` changes that it does not create (an unreadable file: none)."""
    upgrade = _upgrade(path)
    if upgrade is None:
        return frozenset()
    touched, created = set(), set()
    for call in (n for n in ast.walk(upgrade) if isinstance(n, ast.Call)):
        func = call.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
            continue
        if func.value.id != "op":
            continue
        if func.attr == "create_table":
            created.add(_string(call.args[0]) if call.args else None)
        elif func.attr in _TABLE_ARGUMENT:
            touched.add(_table_argument(call, _TABLE_ARGUMENT[func.attr]))
    return frozenset(name for name in touched - created if name)


def _table_argument(call: ast.Call, position: int) -> str | None:
    for keyword in call.keywords:
        if keyword.arg in _TABLE_KEYWORDS:
            return _string(keyword.value)
    return _string(call.args[position]) if len(call.args) > position else None


def _string(node: ast.expr) -> str | None:
    """A literal table name (``op.f("x")`` and variables are not table names we can read)."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


#: Operations that create, change or drop a column: (the position of its name on ``op``, on a
#: batch, where the batch names the table).
_COLUMN_OPERATIONS = {"add_column": (1, 0), "drop_column": (1, 0), "alter_column": (1, 0)}
#: Operations on a named index or constraint (the name first): what they name.
_NAMED_OPERATIONS = {
    "create_index": "index",
    "drop_index": "index",
    "create_unique_constraint": "constraint",
    "create_check_constraint": "constraint",
    "create_primary_key": "constraint",
    "create_foreign_key": "constraint",
    "create_exclude_constraint": "constraint",
    "drop_constraint": "constraint",
}


def changed_items(path: Path) -> frozenset[str]:
    """What ``upgrade()`` creates, changes or drops, by name: ``column t.c``, ``table t``,
    ``index i``, ``constraint k`` (names it does not write literally are not read)."""
    upgrade = _upgrade(path)
    if upgrade is None:
        return frozenset()
    batches = {
        item.optional_vars.id: _table_argument(item.context_expr, 0)
        for node in ast.walk(upgrade)
        if isinstance(node, ast.With)
        for item in node.items
        if isinstance(item.optional_vars, ast.Name)
        and isinstance(item.context_expr, ast.Call)
        and _operation(item.context_expr) == ("op", "batch_alter_table")
    }
    found = set()
    for call in (n for n in ast.walk(upgrade) if isinstance(n, ast.Call)):
        owner, name = _operation(call) or ("", "")
        batch = owner in batches
        if owner != "op" and not batch:
            continue
        if name in _COLUMN_OPERATIONS:
            table = batches[owner] if batch else _table_argument(call, 0)
            column = _column_name(call, _COLUMN_OPERATIONS[name][batch])
            found.add(f"column {table}.{column}" if table and column else "")
        elif name in ("create_table", "drop_table") and not batch:
            found.add(f"table {_name_argument(call, 0, 'table_name')}")
        elif name == "rename_table" and not batch:
            found |= {f"table {_name_argument(call, i, None)}" for i in (0, 1)}
        elif name in _NAMED_OPERATIONS:
            key = "index_name" if _NAMED_OPERATIONS[name] == "index" else "constraint_name"
            found.add(f"{_NAMED_OPERATIONS[name]} {_name_argument(call, 0, key)}")
    return frozenset(item for item in found if item and not item.endswith(" None"))


def _upgrade(path: Path) -> ast.FunctionDef | None:
    try:
        tree = ast.parse(source(path))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    return next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"), None
    )


def _operation(call: ast.Call) -> tuple[str, str] | None:
    """(``op`` or a batch's name, the operation) of ``op.x(...)`` / ``batch_op.x(...)``."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id, func.attr
    return None


def _name_argument(call: ast.Call, position: int, keyword: str | None) -> str | None:
    for item in call.keywords:
        if item.arg == keyword:
            return _literal_name(item.value)
    return _literal_name(call.args[position]) if len(call.args) > position else None


def _literal_name(node: ast.expr) -> str | None:
    """A name written as a string, or through ``op.f("...")``."""
    if isinstance(node, ast.Call) and _operation(node) == ("op", "f") and node.args:
        return _string(node.args[0])
    return _string(node)


def _column_name(call: ast.Call, position: int) -> str | None:
    """The column of ``add_column(sa.Column("c", ...))`` or ``drop_column("c")``."""
    for item in call.keywords:
        if item.arg in ("column_name", "column"):
            return _column_literal(item.value)
    return _column_literal(call.args[position]) if len(call.args) > position else None


def _column_literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call) and node.args:  # sa.Column("name", ...)
        return _literal_name(node.args[0])
    return _literal_name(node)


def template_preludes(folder: Path) -> dict[str, set[str]]:
    """The statements the project's script.py.mako puts in ``upgrade()`` and ``downgrade()``
    before the operations (Langflow's: ``conn = op.get_bind()``), by function: migrate writes
    SQLite's PRAGMA lines after them."""
    try:
        lines = (folder / "script.py.mako").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    preludes: dict[str, set[str]] = {}
    function = None
    for line in lines:
        started = re.match(r"def (upgrade|downgrade)\(", line)
        if started:
            function = started[1]
            preludes[function] = set()
        elif function is not None and re.search(r"\$\{\s*(up|down)grades\b", line):
            function = None  # the operations go here
        elif function is not None:
            try:
                preludes[function].update(ast.unparse(n) for n in ast.parse(line.strip()).body)
            except SyntaxError:
                continue  # a template expression or a line of a longer statement
    return preludes
