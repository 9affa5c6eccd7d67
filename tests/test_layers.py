"""contribkit's imports point one way: the public modules → frontends → commands →
workflows → databases → core.

A module may import its own layer and the layers below it, never one above: a newcomer reads a
command top-down, and a database module can be tried without the workflows that use it.
Function-level imports count too (they are how heavy modules load late). The public modules
(``contribkit.env``, ``.testing``, ``.invoke``, ``.nox``, ``.cli``) sit at the package's top,
above everything; only the old paths that forward to them, until they go, import them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "contribkit"
#: Bottom to top.
LAYERS = ("core", "databases", "workflows", "commands", "frontends", "public")
PUBLIC = ("env", "testing", "invoke", "nox", "cli")
#: The old paths of public modules: each forwards to its new one, with a warning, until 0.5.
FORWARDING = {
    "contribkit.frontends.testing",
    "contribkit.frontends.invoke_tasks",
    "contribkit.frontends.nox_sessions",
}


def layer_of(module: str) -> int | None:
    """The layer of ``contribkit.<layer>...``; ``None`` for the package root (its version)."""
    parts = module.split(".")
    if parts[0] != "contribkit" or len(parts) == 1 or parts[1] == "__version__":
        return None
    if parts[1] == "__main__":
        return LAYERS.index("frontends")
    if parts[1] in PUBLIC:
        return LAYERS.index("public")
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else -1


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import; contribkit imports absolutely"
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return [name for name in found if name.startswith("contribkit")]


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_sits_in_a_layer() -> None:
    misplaced = [str(p) for p in MODULES if layer_of(module_name(p)) == -1]
    assert not misplaced, f"modules outside {LAYERS}: {misplaced}"


def upward_imports(path: Path, own: int | None) -> list[str]:
    if own is None:
        return []
    # A module outside every layer (-1) counts too: it is a stale name, or a new top level.
    return [
        name
        for name in imported_modules(path)
        if layer_of(name) == -1 or (layer_of(name) or 0) > own
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_point_down(path: Path) -> None:
    if module_name(path) in FORWARDING:  # only its new module, nothing else of contribkit's
        targets = {name.split(".")[1] for name in imported_modules(path)}
        assert len(targets) == 1 and targets <= set(PUBLIC), (module_name(path), targets)
        return
    own = layer_of(module_name(path))
    upward = upward_imports(path, own)
    assert not upward, f"{module_name(path)} imports a layer above {LAYERS[own or 0]}: {upward}"


def test_an_upward_import_is_caught(tmp_path: Path) -> None:
    """The rule can fail: a function-level import of a workflow from core is found."""
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from contribkit.workflows.migrations import check\n")
    core = LAYERS.index("core")
    assert upward_imports(module, core) == ["contribkit.workflows.migrations.check"]
    assert upward_imports(module, LAYERS.index("commands")) == []
    module.write_text("from contribkit import console\n")  # a flat name from before the layers
    assert upward_imports(module, LAYERS.index("frontends")) == ["contribkit.console"]
