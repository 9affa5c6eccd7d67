"""Module attributes every revision of a history sets, such as Airflow's ``airflow_version``:
the values ``migrate`` writes into a new revision, and the names ``check`` holds new ones to.

Only what a file itself binds to a plain constant (a string, a number, a boolean) counts:
Alembic's identifiers (``revision``, ``down_revision`` …) are written anyway, and what a
revision imports is not its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

from contribkit.core.config import ATTRIBUTE_TYPES, REVISION_IDENTIFIERS
from contribkit.workflows.migrations import revisionfile


def assigned(path: Path) -> dict[str, object]:
    """The names ``path`` binds to a constant at module level (an unreadable file: none)."""
    try:
        tree = ast.parse(revisionfile.source(path))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    found = {}
    for node in tree.body:
        name, value = _assignment(node)
        if name is None or name in REVISION_IDENTIFIERS or not isinstance(value, ast.Constant):
            continue
        if type(value.value) in ATTRIBUTE_TYPES:
            found[name] = value.value
    return found


def carried(paths: list[Path]) -> dict[str, object]:
    """What every one of ``paths`` (revision files, oldest first) sets: each name with the
    newest file's value. Fewer than two files make no convention."""
    if len(paths) < 2:
        return {}
    common = assigned(paths[-1])
    for path in paths[:-1]:
        if not common:
            break
        names = assigned(path)
        common = {name: value for name, value in common.items() if name in names}
    return common


def with_attributes(path: Path, values: dict[str, object]) -> None:
    """Set each of ``values`` at module level in ``path``: in place of the file's own
    assignment of that name, else after Alembic's identifiers."""
    text = revisionfile.source(path)
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    pending = dict(values)
    edits: list[tuple[int, int, list[str]]] = []  # (first line, end line, new lines), 0-based
    after = 0
    for node in tree.body:
        name, _value = _assignment(node)
        if name in REVISION_IDENTIFIERS:
            after = node.end_lineno or node.lineno
        elif name is not None and name in pending:
            line = f"{name} = {pending.pop(name)!r}\n"
            edits.append((node.lineno - 1, node.end_lineno or node.lineno, [line]))
    if pending:
        edits.append((after, after, [f"{name} = {value!r}\n" for name, value in pending.items()]))
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = new
    path.write_text("".join(lines), encoding="utf-8")


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    """``name = value`` or ``name: T = value`` at module level, else ``(None, None)``."""
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    ):
        return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
        return node.target.id, node.value
    return None, None
