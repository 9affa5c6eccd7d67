"""What a revision file's ``upgrade()`` names, read from its source without running it.

``check`` meets revisions as files (``migrate`` has their operations): which existing tables a
revision changes decides which must hold rows while it is verified.
"""

from __future__ import annotations

import ast
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
    try:
        tree = ast.parse(source(path))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return frozenset()
    upgrade = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"), None
    )
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
