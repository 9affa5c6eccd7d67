"""The baseline: what an adopted history already gets wrong, so ``check`` fails only on news.

``contribkit baseline`` writes one TOML table per dialect, sorted, one item a line, so that a
fix shows in review as removed lines::

    [sqlite]
    revisions = ["1a2b3c4d5e6f", ...]   # the history at the baseline point
    known = ["drift: create index ix_x on t (a)", ...]   # problems found there

Revisions of the baseline are checked structurally only (upgrade, downgrade, upgrade again,
on an empty database); the rules for new revisions (file name, PRAGMA bracket, notes entry,
seeded rows kept) apply to every revision after it. A known problem no longer found is reported
as fixed, and ``baseline`` run again drops it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.operations import ops

from contribkit.core.errors import UsageError
from contribkit.workflows.migrations.describe import accepted

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

HEADER = """\
# Written by `contribkit baseline`: what this migration history got wrong before contribkit
# checked it. `contribkit check` accepts exactly these; after a fix, run `contribkit baseline`
# again and the fixed lines go away. Revisions listed here are checked structurally only.
"""
DRIFT = "drift: "


@dataclass(frozen=True)
class DialectBaseline:
    revisions: frozenset[str] = frozenset()
    known: frozenset[str] = frozenset()

    @property
    def known_drift(self) -> frozenset[str]:
        """The accepted differences between the models and the head, as operations."""
        return frozenset(p.removeprefix(DRIFT) for p in self.known if p.startswith(DRIFT))


@dataclass(frozen=True)
class Baseline:
    dialects: dict[str, DialectBaseline] = field(default_factory=dict)

    def of(self, dialect: str) -> DialectBaseline:
        return self.dialects.get(dialect, DialectBaseline())


def load(path: Path | None) -> Baseline:
    """The baseline at ``path``; none (an empty one) when the file does not exist."""
    if path is None or not path.exists():
        return Baseline()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the baseline {path}: {exc.strerror or exc}.") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{path.name} is not valid TOML ({exc}): restore it from git or run 'contribkit baseline'."
        ) from exc
    dialects = {}
    for dialect, table in data.items():
        if not isinstance(table, dict) or set(table) - {"revisions", "known"}:
            raise UsageError(
                f"{path.name}: [{dialect}] must hold only 'revisions' and 'known' lists: "
                "restore it from git or run 'contribkit baseline'."
            )
        lists = {key: table.get(key, []) for key in ("revisions", "known")}
        for key, value in lists.items():
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"{path.name}: [{dialect}] {key} must be a list of strings.")
        dialects[dialect] = DialectBaseline(
            frozenset(lists["revisions"]), frozenset(lists["known"])
        )
    return Baseline(dialects)


def require_known_revisions(
    baseline: Baseline, path: Path | None, dialect: str, history: set[str]
) -> None:
    """A baseline naming revisions the history lacks belongs to another history: say so."""
    unknown = sorted(baseline.of(dialect).revisions - history)
    if unknown:
        shown = ", ".join(unknown[:3]) + (" …" if len(unknown) > 3 else "")
        name = path.name if path is not None else "the baseline"
        raise UsageError(
            f"{name} names {dialect} revision(s) not in the history ({shown}): "
            "run 'contribkit baseline' again if they were removed on purpose."
        )


def render(baseline: Baseline) -> str:
    """The file's text: dialects and items sorted, one item a line."""
    parts = [HEADER]
    for dialect in sorted(baseline.dialects):
        entry = baseline.dialects[dialect]
        parts.append(f"\n[{dialect}]\n")
        for key, values in (("revisions", entry.revisions), ("known", entry.known)):
            parts.append(f"{key} = {_toml_list(sorted(values))}\n")
    return "".join(parts)


def _toml_list(values: list[str]) -> str:
    if not values:
        return "[]"
    # A JSON string is a valid TOML basic string for all text (both escape the same way).
    items = (json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f") for v in values)
    return "[\n" + "".join(f"    {item},\n" for item in items) + "]"


def without_known_drift(script: Any, known_drift: frozenset[str], dialect: Any) -> None:
    """Remove accepted drift from an autogenerated script, in place; the downgrade is rebuilt
    as the reverse of what remains."""

    without_operations(script, lambda op: accepted(op, known_drift, dialect))


def without_operations(script: Any, unwanted: Callable[[Any], bool]) -> None:
    """Remove the ``unwanted`` operations from an autogenerated script, in place; the downgrade
    is rebuilt as the reverse of what remains."""

    removed = False

    def keep(container: Any) -> None:
        nonlocal removed
        kept = []
        for op in container.ops:
            if isinstance(op, ops.OpContainer):
                keep(op)
                if op.ops:
                    kept.append(op)
            elif not unwanted(op):
                kept.append(op)
        removed = removed or len(kept) != len(container.ops)
        container.ops = kept

    keep(script.upgrade_ops)
    if removed:
        script.downgrade_ops = script.upgrade_ops.reverse()
