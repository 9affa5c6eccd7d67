"""The one output channel: events go to the reporter in place, and only it renders them."""

from __future__ import annotations

import ast
import threading
import warnings
from pathlib import Path

from contribkit.core import reporting
from contribkit.core.reporting import Event

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "contribkit"
#: The modules that may write to the terminal: the text renderer and what chooses it.
RENDERERS = ("core/console.py", "frontends/", "cli.py", "__main__.py")


def test_events_reach_the_reporter_in_place_in_order_and_nothing_is_printed(capsys) -> None:
    with reporting.recorded() as events:
        reporting.step("generate", "sqlite")
        reporting.ok("verified")
        threading.Thread(target=reporting.warn, args=("from a worker", "mysql")).start()
        for thread in threading.enumerate():
            if thread is not threading.current_thread():
                thread.join(timeout=5)
    assert events == [
        Event("step", "generate", "sqlite"),
        Event("ok", "verified"),
        Event("warn", "from a worker", "mysql"),
    ]
    assert capsys.readouterr().out == ""


def test_the_reporter_before_is_back_after_recording_even_on_failure(capsys) -> None:
    try:
        with reporting.recorded():
            raise RuntimeError
    except RuntimeError:
        pass
    reporting.ok("printed", "sqlite")
    assert capsys.readouterr().out == "✓ sqlite: printed\n"


def test_the_text_renderer_prints_brackets_as_they_are(capsys) -> None:
    """A message naming ``[tool.contribkit]`` is not rich markup (it used to vanish)."""
    reporting.warn('set [tool.contribkit] dialects = ["sqlite"]')
    reporting.report("out", "kind: Pod\n")
    assert capsys.readouterr().out == '! set [tool.contribkit] dialects = ["sqlite"]\nkind: Pod\n'


def test_warnings_while_migrations_run_are_one_summary_event() -> None:
    with reporting.recorded() as events, reporting.summarized_warnings(("handled",)):
        for name in ("a", "b", "a"):
            warnings.warn(f"Skipped unsupported reflection of index {name}", stacklevel=1)
        warnings.warn("handled elsewhere", stacklevel=1)
    assert events == [
        Event(
            "info",
            "3 warning(s) while running the migrations, 2 distinct; most often (2x): "
            "Skipped unsupported reflection of index a",
        )
    ]


def _writes_to_the_terminal(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
            found.append(f"print() at line {node.lineno}")
        elif isinstance(node, ast.ImportFrom) and node.module == "contribkit.core":
            found += [
                f"imports console at line {node.lineno}" for a in node.names if a.name == "console"
            ]
        elif isinstance(node, ast.Import):
            found += [
                f"imports console at line {node.lineno}"
                for a in node.names
                if a.name == "contribkit.core.console"
            ]
    return found


def test_only_the_renderer_and_the_frontends_write_to_the_terminal() -> None:
    """Everything else reports events (a frontend may render them as another format); the
    reporting module imports the renderer only to make it the default reporter."""
    offenders = {
        str(path.relative_to(PACKAGE)): found
        for path in sorted(PACKAGE.rglob("*.py"))
        if not str(path.relative_to(PACKAGE)).startswith(RENDERERS)
        and (found := _writes_to_the_terminal(path))
    }
    default = offenders.pop("core/reporting.py")
    assert [line.split(" at ")[0] for line in default] == ["imports console"]
    assert offenders == {}
