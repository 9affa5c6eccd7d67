"""``rebase``: this branch's new revisions re-parented onto the other branch's head, on every
dialect, all or nothing.

Two branches that each add a revision leave, once merged, two heads per history. This branch's
revisions are the revision files the target branch does not have (with git; or named with
``--ours``). On each history (a dialect's, or the shared one) the oldest of them gets the other
head as its ``down_revision`` (and ``Revises:`` line), each is renamed when the project's file
names order by time or number, and their notes entries move above the other branch's. Nothing
is written before the rebased history passes ``check`` in a staged copy (every revision
round-tripped with rows, no drift at head); revisions of the two branches that change the same
column or create the same name are refused before that, naming both.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from contribkit.core import reporting
from contribkit.core.config import SHARED, ProjectConfig
from contribkit.core.errors import CheckFailed, UsageError
from contribkit.core.ownership import temporary_folder
from contribkit.core.signals import deferred_signals, raise_if_interrupted
from contribkit.databases.asyncdrivers import bridged
from contribkit.databases.throwaway import prewarm
from contribkit.workflows.migrations import baseline, filenames, gitbranch, notes, revisionfile
from contribkit.workflows.migrations.check import checked_copy
from contribkit.workflows.migrations.layout import Migrations
from contribkit.workflows.migrations.migrate import project_lock
from contribkit.workflows.migrations.progress import warnings_summed
from contribkit.workflows.migrations.project import project_migrations


@dataclass(frozen=True)
class _Moved:
    """One of this branch's revisions as the rebase rewrites it."""

    revision: str
    path: Path
    target: Path
    #: Its bytes: the edits touch ASCII alone, so its encoding and line ends stay its own.
    data: bytes


@dataclass
class RebaseResult:
    #: History (a dialect, or ``shared``) → (the revisions moved, oldest first; the head now under them).
    rebased: dict[str, tuple[list[str], str]] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    notes: Path | None = None


@bridged
def rebase(config: ProjectConfig, onto: str | None, ours: tuple[str, ...]) -> RebaseResult:
    """Re-parent this branch's revisions onto the other head of every history (see the
    module's docstring); ``onto``: the target branch or commit (default: the upstream, else
    ``main``); ``ours``: this branch's revision ids, instead of asking git."""
    if onto:  # bad input is refused even where there is nothing to do
        _asking_git(lambda: gitbranch.target(config.root, onto))
    live = project_migrations(config, config.dialects, cache=True)
    histories = (config.dialects[0],) if live.shared else config.dialects
    scripts = {name: live.script(name) for name in histories}
    scripts = {name: script for name, script in scripts.items() if len(script.get_heads()) > 1}
    result = RebaseResult()
    if not scripts:
        reporting.ok("every history has one head: nothing to rebase")
        if (
            config.notes is not None
            and config.notes.exists()
            and notes.conflicted(config.notes.read_text(encoding="utf-8"))
        ):
            reporting.warn(
                f"{config.notes.name} still holds git's conflict markers: with one head per "
                "history there is no branch order to take from, so merge them by hand"
            )
        return result
    mine = set(ours) or _added_on_this_branch(config, live, scripts, onto)
    moved: list[_Moved] = []
    for name, script in scripts.items():
        label = SHARED if live.shared else name
        chain, head = _plan(label, script, mine, live, name)
        result.rebased[label] = ([m.revision for m in chain], head)
        moved += chain
    notes_text = _rebased_notes(config, mine)
    prewarm(config.dialects)
    with project_lock(config.root), temporary_folder("ck-rebase-") as tmp, warnings_summed():
        staged = _staged(live, tmp, moved)
        reporting.step("checking the rebased history on a staged copy")
        accepted = baseline.load(config.baseline)
        failed = {
            report.dialect: report.new(accepted.of(report.dialect))
            for report in checked_copy(config, staged, notes_text or "", accepted)
        }
        failed = {name: new for name, new in failed.items() if new}
        if failed:
            first = next(iter(failed.items()))
            raise CheckFailed(
                f"the rebased history fails its check on {', '.join(failed)} "
                f"({first[0]}: {first[1][0]}): nothing was changed; fix it on the branch first"
            )
        _commit(moved, config.notes if notes_text is not None else None, notes_text, result)
    for label, (revisions, head) in result.rebased.items():
        reporting.ok(f"{', '.join(revisions)} now after {head}", label)
    return result


def _added_on_this_branch(
    config: ProjectConfig, live: Migrations, scripts: dict[str, Any], onto: str | None
) -> set[str]:
    """The revisions whose files the target branch does not have."""

    def theirs_files() -> set[Path]:
        target = gitbranch.target(config.root, onto)
        return {
            path
            for name in scripts
            for path in gitbranch.files_at(config.root, target, live.versions(name))
        }

    theirs = _asking_git(theirs_files)
    return {
        rev.revision
        for script in scripts.values()
        for rev in script.walk_revisions()
        if Path(rev.path).resolve() not in theirs
    }


T = TypeVar("T")


def _asking_git(question: Callable[[], T]) -> T:
    """git's answer; where git cannot say, what to give instead."""
    try:
        return question()
    except gitbranch.NotInGit as exc:
        raise UsageError(
            f"{exc.message}: name the target with --onto BRANCH, or this branch's revisions with "
            "--ours REV,REV (one per dialect's history)."
        ) from None


def _plan(
    label: str, script: Any, mine: set[str], live: Migrations, dialect: str
) -> tuple[list[_Moved], str]:
    """This branch's revisions of one history (of several heads), rewritten to follow the
    other head, and that head."""
    heads = script.get_heads()
    ours = [head for head in heads if head in mine]
    theirs = [head for head in heads if head not in mine]
    if len(heads) > 2 or len(ours) != 1 or len(theirs) != 1:
        raise UsageError(
            f"{label}: {len(heads)} heads ({', '.join(sorted(heads))}), of which "
            f"{len(ours)} are this branch's: rebase moves one branch's revisions onto one other "
            "head (name this branch's with --ours, or merge with 'alembic merge')."
        )
    chain = _chain(label, script, ours[0], mine)
    fork = chain[0].down_revision
    their_chain = _since(script, theirs[0], fork)
    _refuse_conflicts(label, chain, their_chain)
    return _rewritten(live, dialect, chain, theirs[0]), theirs[0]


def _chain(label: str, script: Any, head: str, mine: set[str]) -> list[Any]:
    """This branch's revisions under ``head``, oldest first; each has one parent."""
    chain = []
    current = script.get_revision(head)
    while current is not None and current.revision in mine:
        if isinstance(current.down_revision, tuple | list):
            raise UsageError(
                f"{label}: {Path(current.path).name} has a tuple of parents (a merge point): "
                "rebase moves a line of revisions, not merge points."
            )
        chain.append(current)
        current = script.get_revision(current.down_revision) if current.down_revision else None
    stray = mine & {rev.revision for rev in script.walk_revisions()} - {r.revision for r in chain}
    if stray:
        raise UsageError(
            f"{label}: this branch's revision {sorted(stray)[0]} is not under its head "
            f"{head}: rebase moves one line of revisions."
        )
    return list(reversed(chain))


def _since(script: Any, head: str, fork: str | None) -> list[Any]:
    """The other branch's revisions from ``head`` down to ``fork`` (excluded)."""
    return [rev for rev in script.iterate_revisions(head, fork or "base") if rev.revision != fork]


def _refuse_conflicts(label: str, ours: list[Any], theirs: list[Any]) -> None:
    """Revisions of both branches that change the same column or create the same name."""
    changed = {item: rev for rev in theirs for item in revisionfile.changed_items(Path(rev.path))}
    conflicts = [
        f"{what} is changed by {_name(rev)} (this branch) and {_name(changed[what])}"
        for rev in ours
        for what in sorted(revisionfile.changed_items(Path(rev.path)))
        if what in changed
    ]
    if conflicts:
        for line in conflicts:
            reporting.warn(line, label)
        raise CheckFailed(
            f"{len(conflicts)} change(s) made on both branches ({label}: {conflicts[0]}): "
            "nothing was changed; settle them in the models and the revisions by hand."
        )


def _name(rev: Any) -> str:
    return f"{rev.revision} ({Path(rev.path).name})"


_DOWN_REVISION = re.compile(
    rb"^(?P<lead>down_revision\b[^=\n]*=\s*)(?P<value>None|(?P<q>['\"])\w+(?P=q))", re.MULTILINE
)
_REVISES = re.compile(rb"^(?P<lead>Revises:[ \t]*)(?P<value>\S*)(?P<end>[ \t\r]*)$", re.MULTILINE)


def _rewritten(live: Migrations, dialect: str, chain: list[Any], head: str) -> list[_Moved]:
    """The chain's files: the oldest one's parent is ``head``; every file renamed after the
    other branch's newest where the names order by time or number."""
    folder, template = live.versions(dialect), live.file_template
    ours = {Path(r.path) for r in chain}
    others = sorted(
        p.name
        for p in folder.glob("*.py")
        if p not in ours and filenames.written_by(template, p.name)
    )
    numbered = filenames.NUMBER in filenames.tokens(template)
    number = filenames.next_number(template, others) if numbered else 0
    start = datetime.now(timezone.utc).replace(microsecond=0)
    names = _names(template, chain, start, number)
    # Revisions written within one second share their time, and names another tool wrote in
    # local time may be hours ahead: a later time makes the order sure.
    step = timedelta(seconds=1)
    while others and names[0] is not None and names[0] <= others[-1] and step.days < 400:
        start += step
        step *= 2
        names = _names(template, chain, start, number)
    if others and names[0] is not None and names[0] <= others[-1]:
        reporting.warn(f"{names[0]} does not sort after {others[-1]}: rename it by hand", dialect)
    moved = []
    for index, (rev, name) in enumerate(zip(chain, names, strict=True)):
        path = Path(rev.path)
        data = path.read_bytes()
        if index == 0:
            data = _reparented(data, path, head)
        moved.append(_Moved(rev.revision, path, path.with_name(name or path.name), data))
    return moved


def _names(template: str, chain: list[Any], start: datetime, number: int) -> list[str | None]:
    """The chain's new file names, a second (and a number) apart, in order."""
    return [
        filenames.renamed(
            template, Path(rev.path).name, rev.revision, start + timedelta(seconds=i), number + i
        )
        for i, rev in enumerate(chain)
    ]


def _reparented(data: bytes, path: Path, head: str) -> bytes:
    found = list(_DOWN_REVISION.finditer(data))
    if len(found) != 1:
        raise UsageError(
            f"{path.name}: cannot find its one 'down_revision = ...' line to point it at {head}: "
            "nothing was changed."
        )
    match = found[0]
    quote = match["q"] or b'"'
    value = quote + head.encode() + quote
    data = data[: match.start("value")] + value + data[match.end("value") :]
    return _REVISES.sub(lambda m: m["lead"] + head.encode() + m["end"], data, count=1)


def _rebased_notes(config: ProjectConfig, mine: set[str]) -> str | None:
    """The notes with this branch's entries first (``None``: the project keeps none)."""
    if config.notes is None or not config.notes.exists():
        return None
    try:
        return notes.rebased(config.notes.read_text(encoding="utf-8"), mine)
    except ValueError as exc:
        raise CheckFailed(f"{config.notes.name}: {exc}: nothing was changed.") from None


def _staged(live: Migrations, tmp: Path, moved: list[_Moved]) -> Migrations:
    """A copy of the migrations folder with the rebased files in place."""
    staged = replace(live, folder=tmp / "migrations")
    shutil.copytree(live.folder, staged.folder, ignore=shutil.ignore_patterns("__pycache__"))
    for item in moved:
        inside = staged.folder / item.path.relative_to(live.folder)
        inside.unlink()
        inside.with_name(item.target.name).write_bytes(item.data)
    return staged


def _commit(
    moved: list[_Moved], notes_path: Path | None, notes_text: str | None, result: RebaseResult
) -> None:
    """Write the rebased files and the notes; on any failure every file is as it was.

    Signals are held meanwhile, so an interrupt cannot land between a write and its undo."""
    originals = {item.path: item.path.read_bytes() for item in moved}
    if notes_path is not None:
        originals[notes_path] = notes_path.read_bytes()
    created: list[Path] = []
    with deferred_signals() as deferral:
        try:
            raise_if_interrupted()
            for item in moved:
                if item.target != item.path:
                    created.append(item.target)
                notes.write_atomically(item.target, item.data, mode_of=item.path)
            if notes_path is not None and notes_text is not None:
                notes.write_atomically(notes_path, notes_text)
                result.notes = notes_path
            for item in moved:  # the old names go last: until here, every original is on disk
                if item.target != item.path:
                    item.path.unlink()
        except BaseException:
            notes.put_back(created, originals)
            result.rebased.clear()
            raise
        deferral.finish_work()
    result.written = [item.target for item in moved]
