"""``check``: is every dialect's history sound and in step with the models and notes?

For each dialect (on a shared history, each runs the same revisions): exactly one head; then, on a fresh database, every revision upgrades,
downgrades and upgrades again one step at a time, with rows seeded in every table and foreign
keys on, without losing rows; zero drift at head; and MIGRATION-NOTES.md names exactly the
revision files. New revisions must also be named ``YYYY_MM_DD_HHMMSS_<rev>_<slug>.py`` and, on
SQLite, keep their ``PRAGMA foreign_keys`` bracket.

An adopted project's baseline (see :mod:`contribkit.workflows.migrations.baseline`) marks the revisions
that are only checked structurally (no seeded rows, no file rules) and the problems already
known; the check fails only on the others. It never stops at the first problem: a revision that
fails is reported, the walk starts again on a fresh database brought to that revision without
rows, and goes on.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

from contribkit.core import reporting
from contribkit.core.config import SHARED, ProjectConfig
from contribkit.core.errors import CheckFailed, ContribkitError, UsageError, one_line
from contribkit.databases.asyncdrivers import bridged
from contribkit.databases.dialects import dialect_named
from contribkit.databases.throwaway import anonymized, prewarm
from contribkit.workflows.migrations import baseline as baselines
from contribkit.workflows.migrations import (
    filenames,
    revisionattrs,
    revisionfile,
    snapshots,
)
from contribkit.workflows.migrations.generate import PRAGMA_OFF, PRAGMA_ON
from contribkit.workflows.migrations.layout import SEVERAL_HEADS, Migrations
from contribkit.workflows.migrations.notes import recorded_revisions, write_atomically
from contribkit.workflows.migrations.progress import step, warnings_summed
from contribkit.workflows.migrations.project import project_migrations
from contribkit.workflows.migrations.verify import (
    CREATED,
    TrialDatabase,
    checked,
    created_database,
    round_trip,
)

#: The problem that says a walk never reached the head, so the head was not compared.
UNCHECKED = "drift at head was not checked: "
#: The problem that says a new revision changed a table no seeded row proved it on.
EMPTY = "verified without rows in "


@dataclass
class DialectReport:
    dialect: str
    revisions: int = 0
    #: Every problem found, known to the baseline or not.
    problems: list[str] = field(default_factory=list)
    #: The revision ids of the history, oldest first.
    history: list[str] = field(default_factory=list)

    def new(self, accepted: baselines.DialectBaseline) -> list[str]:
        return [p for p in self.problems if p not in accepted.known]

    def fixed(self, accepted: baselines.DialectBaseline) -> list[str]:
        return sorted(accepted.known - set(self.problems))


def _pragma_bracket_problems(path: Path, preludes: dict[str, set[str]]) -> list[str]:
    """SQLite revisions must switch foreign keys off first and on last in both functions,
    after what the revision template puts first (``preludes``, see :func:`revisionfile.template_preludes`)."""

    tree = ast.parse(revisionfile.source(path))
    problems = []
    for func in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        if func.name not in ("upgrade", "downgrade"):
            continue
        body = [n for n in func.body if not isinstance(n, ast.Pass)]
        if body and _is_docstring(body[0]):  # a revision template's own, before the code
            body = body[1:]
        while body and ast.unparse(body[0]) in preludes.get(func.name, ()):
            body = body[1:]
        if not body:
            continue
        first, last = ast.unparse(body[0]), ast.unparse(body[-1])
        if PRAGMA_OFF not in first or PRAGMA_ON not in last:
            problems.append(
                f"{path.name}: {func.name}() must start with op.execute('{PRAGMA_OFF}') "
                f"and end with op.execute('{PRAGMA_ON}')"
            )
    return problems


def _required_attributes(
    migrations: Migrations, revisions: list[Any], old: frozenset[str]
) -> Callable[[], dict[str, str]]:
    """The module attributes new revisions must set, each with why: those every revision of
    the baseline sets and those ``revision_attributes`` names. Read when first asked: only
    a history with new revisions pays for parsing its files."""

    @cache
    def required() -> dict[str, str]:
        baselined = [Path(rev.path) for rev in revisions if rev.revision in old]
        return {
            **{
                name: "which every revision of the baseline sets (revision_attributes)"
                for name in revisionattrs.carried(baselined)
            },
            **{name: "which revision_attributes names" for name in migrations.revision_attributes},
        }

    return required


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _file_problems(
    migrations: Migrations,
    dialect: str,
    revisions: list[Any],
    old: frozenset[str],
    recorded: set[str],
) -> list[str]:
    """The rules for revisions written after the baseline, and notes that name missing files."""
    problems = []
    preludes = revisionfile.template_preludes(migrations.folder)
    required = _required_attributes(migrations, revisions, old)
    for rev in revisions:
        if rev.revision in old:
            continue
        name = Path(rev.path).name
        if required():
            set_here = revisionattrs.assigned(Path(rev.path))
            problems += [
                f"{name}: sets no {attribute}, {why}"
                for attribute, why in required().items()
                if attribute not in set_here
            ]
        if not filenames.names(migrations.file_template, name, rev.revision):
            problems.append(f"{name}: not named {filenames.shown(migrations.file_template)}")
        if dialect_named(dialect).alters_by_rebuild:
            problems += _pragma_bracket_problems(Path(rev.path), preludes)
        if rev.revision not in recorded:
            problems.append(f"{name}: revision {rev.revision} has no entry in the notes")
    on_disk = {rev.revision for rev in revisions}
    problems += [
        f"the notes name {r}, which has no revision file" for r in sorted(recorded - on_disk)
    ]
    return problems


@contextmanager
def _fresh_database(migrations: Migrations, dialect: str, script: Any) -> Iterator[Any]:
    with (
        migrations.ephemeral_database(dialect) as url,
        TrialDatabase(migrations, dialect, url, script) as db,
    ):
        yield db


def _failure(exc: Exception) -> str:
    if isinstance(exc, ContribkitError):
        return exc.message
    return f"{type(exc).__name__}: {one_line(exc)}"


def _walk(
    migrations: Migrations, dialect: str, script: Any, revisions: list[Any], old: frozenset[str]
) -> list[str]:
    """Round-trip every revision in order (seeded from the baseline on), then compare with the
    models; returns the problems found. States proven by an earlier run are restored from the
    cache instead of replayed (see :mod:`contribkit.workflows.migrations.snapshots`)."""

    seeded_at = [r.revision not in old for r in revisions]
    with ExitStack() as stack:

        def fresh() -> Any:
            stack.close()
            return stack.enter_context(_fresh_database(migrations, dialect, script))

        db = fresh()
        cache = snapshots.HistoryCache.open(migrations, dialect, db.engine, revisions)
        keys, passes, done, meta = _resume(cache, seeded_at, _pass_count(revisions, old), db)
        problems, consulted = list(meta.get("problems", [])), set(meta.get("models", {}))
        if done == 0 and passes:
            if _passes_from_cache_or_run(db, cache, keys, revisions[passes - 1].revision, passes):
                done = passes
            else:  # a pass failed: walk them one by one, which names the revision
                db = fresh()
                keys = cache.walk_keys(seeded_at, 0) if cache else []
        previous = revisions[done - 1].revision if done else None
        counts: dict[str, int] | None = None  # rows per table, when known without asking
        for index in range(done, len(revisions)):
            rev = revisions[index]
            name = Path(rev.path).name
            seeded = rev.revision not in old
            if cache and index == len(revisions) - 1 and index:
                # Before the head too: the newest revision is the one most often edited.
                cache.save(keys[index - 1], db, problems, consulted)
            try:
                counts, empty = _step(db, rev, previous, seeded, counts, consulted)
                problems += [
                    f"{name}: {EMPTY}{table} (seed_rows can give it rows)" for table in empty
                ]
            except UsageError:
                raise  # the set-up is wrong (env.py, drivers): no revision is to blame
            except Exception as exc:
                counts = None
                problems.append(f"{name}: {_failure(exc)}")
                # Go on from this revision, on a database that never held the failed step.
                db = fresh()
                try:
                    db.upgrade(rev.revision)
                except Exception as again:
                    problems.append(
                        f"{name}: the check cannot go on past it, even without rows: {_failure(again)}"
                    )
                    problems.append(f"{UNCHECKED}the check stopped at {name}")
                    return problems
            previous = rev.revision
        if cache and keys:
            cache.save(keys[-1], db, problems, consulted)
        problems += [f"{baselines.DRIFT}{line}" for line in db.drift()]
    return problems


def _resume(
    cache: Any, seeded_at: list[bool], passes: int, db: Any
) -> tuple[list[str | None], int, int, dict[str, Any]]:
    """Where the walk starts: (the keys of its states, how many revisions run as whole passes,
    how many a saved state covers, what was saved with it). A history whose baseline passes
    failed was walked one by one, so its states are under the keys of a walk without passes."""
    if cache is None:
        return [], passes, 0, {}
    for count in dict.fromkeys((passes, 0)):
        keys = cache.walk_keys(seeded_at, count)
        done, meta = cache.resume(keys, db, "proven")
        if done:
            return keys, count, done, meta
    return cache.walk_keys(seeded_at, passes), passes, 0, {}


def _passes_from_cache_or_run(
    db: Any, cache: Any, keys: list[str | None], last: str, passes: int
) -> bool:
    """The baseline's revisions as whole passes up to ``last``; on success both states it
    reached are saved: a plain upgrade's (where migrate starts) and the check's own."""

    def save_upgraded() -> None:
        if cache:
            cache.save(cache.upgrade_keys()[passes - 1], db, [], set())

    if not _baseline_passes(db, last, save_upgraded):
        return False
    if cache:
        cache.save(keys[passes - 1], db, [], set())
    return True


def _step(
    db: Any,
    rev: Any,
    previous: str | None,
    seeded: bool,
    counts: dict[str, int] | None,
    consulted: set[str],
) -> tuple[dict[str, int] | None, list[str]]:
    """One revision's round trip (with rows after the baseline); returns the row counts it
    ended with, when it knows them without asking, and the tables the revision changes that
    held no rows for it."""

    empty: list[str] = []
    if seeded and (counts is None or not all(counts.values())):
        db.seed(consulted)  # a table without rows: it may be seedable now
        counts = None
    if seeded:
        touched = revisionfile.touched_tables(Path(rev.path))
        if touched:
            counts = counts if counts is not None else db.counts()
            empty = sorted(table for table in touched if counts.get(table) == 0)
    after = round_trip(db, rev.revision, previous, rows=seeded, before=counts)
    return after or None, empty


def _pass_count(revisions: list[Any], old: frozenset[str]) -> int:
    """How many of the history's first revisions are the baseline's and run as whole passes
    (0: too few for passes to save anything)."""
    count = 0
    while count < len(revisions) and revisions[count].revision in old:
        count += 1
    return count if count >= 2 else 0


def _baseline_passes(db: Any, last: str, upgraded: Callable[[], None]) -> bool:
    """The baseline's revisions (the history's first ones, up to ``last``) as three whole passes
    on the empty database: up, down to base, up again. Every step of their one-by-one round trips
    runs, in three runs of env.py instead of three per revision. ``upgraded`` is called after
    the first pass. False if a pass failed."""
    try:
        db.upgrade(last)
        upgraded()
        db.downgrade("base")
        db.upgrade(last)
    except UsageError:
        raise
    except Exception:
        return False
    return True


def check_dialect(
    migrations: Migrations,
    dialect: str,
    recorded: set[str],
    old: frozenset[str] = frozenset(),
    script: Any = None,
) -> DialectReport:
    """Every problem of one dialect's history; ``old``: the baseline's revisions; ``script``:
    its ``ScriptDirectory`` if the caller has loaded it (loading runs every revision file)."""
    report = DialectReport(dialect)
    script = script if script is not None else migrations.script(dialect)
    heads = script.get_heads()
    if len(heads) > 1:
        report.problems.append(f"{len(heads)} heads ({', '.join(sorted(heads))}): {SEVERAL_HEADS}")
        return report
    revisions = list(reversed(list(script.walk_revisions())))
    report.revisions = len(revisions)
    report.history = [rev.revision for rev in revisions]
    report.problems += _file_problems(migrations, dialect, revisions, old, recorded)
    walked = migrations.walked(dialect, revisions)
    report.problems += [_stable(p) for p in _walk(migrations, dialect, script, walked, old)]
    if migrations.guarded:
        report.problems += [
            _stable(p) for p in _guard_problems(migrations, dialect, script, walked, old)
        ]
    return report


def _guard_problems(
    migrations: Migrations, dialect: str, script: Any, revisions: list[Any], old: frozenset[str]
) -> list[str]:
    """``guarded``: the revisions since the baseline must run, one after the other, on a
    database the project's own set-up made from the models, as ``migrate`` proves of those it
    writes; the first that does not is the problem."""

    new = [rev for rev in revisions if rev.revision not in old]
    if not new:
        return []
    parent = new[0].down_revision
    with _fresh_database(migrations, dialect, script) as db:
        created_database(db, parent if isinstance(parent, str) else None)
        for rev in new:
            try:
                checked(f"{CREATED}, upgrade to it", partial(db.upgrade, rev.revision))
            except UsageError:
                raise
            except Exception as exc:
                return [f"{Path(rev.path).name}: {_failure(exc)} (guarded = true)"]
    return []


#: A Python object's address in its repr (``<… object at 0x7f48bc0d7880>``), new every run.
_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+\b")


def _stable(problem: str) -> str:
    """``problem`` as the next run words it too, so that a baseline entry matches again: without
    this run's throw-away names and folders, or the addresses of objects in an error's text."""
    return _ADDRESS.sub("at 0x…", anonymized(problem))


@bridged
def run_checks(
    config: ProjectConfig,
    dialect: str | None,
    accepted: baselines.Baseline,
    *,
    as_baseline: bool = False,
    cache: bool = True,
) -> list[DialectReport]:
    """Check the selected dialects and print what each found; ``as_baseline``: treat every
    revision of today's history as the baseline's; ``cache``: reuse states proven before."""

    dialects = config.select_dialects(dialect)
    prewarm(dialects)
    migrations = project_migrations(config, dialects, cache=cache)
    notes_text = (
        config.notes.read_text(encoding="utf-8") if config.notes and config.notes.exists() else ""
    )
    with warnings_summed():
        return _checked(config, dialects, migrations, notes_text, accepted, as_baseline)


def checked_copy(
    config: ProjectConfig, migrations: Migrations, notes_text: str, accepted: baselines.Baseline
) -> list[DialectReport]:
    """Check every configured dialect of ``migrations`` (a staged copy of the project's, with
    ``notes_text`` as its notes), printing what each found, as ``check`` does."""
    return _checked(config, config.dialects, migrations, notes_text, accepted, False)


def _checked(
    config: ProjectConfig,
    dialects: tuple[str, ...],
    migrations: Migrations,
    notes_text: str,
    accepted: baselines.Baseline,
    as_baseline: bool,
) -> list[DialectReport]:
    recorded = recorded_revisions(notes_text)
    reports = []
    for name in dialects:
        script = migrations.script(name)
        history = {rev.revision for rev in script.walk_revisions()}
        if as_baseline:
            migrations.single_head(name)  # a baseline of several heads would accept them
            old = frozenset(history)
        else:
            baselines.require_known_revisions(accepted, config.baseline, name, history)
            old = accepted.of(name).revisions
        noted = recorded.get(SHARED if migrations.shared else name, set())
        with step(name, "check", f"driver {migrations.driver(name)}"):
            report = check_dialect(migrations, name, noted, old, script)
        reports.append(report)
        _print_report(report, accepted.of(name), as_baseline)
    if len(reports) > 1 and not as_baseline:
        _print_parity(reports, accepted)
    return reports


def _print_parity(reports: list[DialectReport], accepted: baselines.Baseline) -> None:
    """Whether every dialect's head holds what the models declare: each history is checked
    on its own, so one dialect's mistake (an index on the wrong table) shows only here."""

    def differs(problems: list[str]) -> bool:
        # Several heads stop the check before the head is compared: not a match either.
        return any(
            p.startswith((baselines.DRIFT, UNCHECKED)) or SEVERAL_HEADS in p for p in problems
        )

    differing = [r.dialect for r in reports if differs(r.problems)]
    if not differing:
        reporting.ok(
            f"{', '.join(r.dialect for r in reports)}: every head matches the models "
            "(tables, columns, types, keys, indexes, CHECK constraints, server defaults, enum values)"
        )
    elif not any(differs(r.new(accepted.of(r.dialect))) for r in reports):
        reporting.info(
            f"heads that do not match the models, only as the baseline accepts: "
            f"{', '.join(differing)}"
        )
    else:
        reporting.info(f"heads that do not match the models: {', '.join(differing)}")


def _print_report(
    report: DialectReport, accepted: baselines.DialectBaseline, as_baseline: bool
) -> None:
    name = report.dialect
    unchecked = [p for p in report.problems if p.startswith(UNCHECKED)]
    if as_baseline:
        line = f"{report.revisions} revisions, {len(report.problems)} known problem(s)"
        if unchecked:
            reporting.warn(f"{line}; {unchecked[0]}", name)
        else:
            reporting.ok(line, name)
        return
    for problem in report.new(accepted):
        reporting.warn(problem, name)
    fixed = report.fixed(accepted)
    if fixed:
        reporting.info(
            f"{len(fixed)} problem(s) of the baseline are gone: "
            "run 'contribkit baseline' to drop them",
            name,
        )
    if not report.new(accepted):
        known = len(report.problems)
        suffix = f" ({known} known to the baseline)" if known else ""
        if unchecked:  # accepted by the baseline, but never "no drift"
            reporting.warn(f"{report.revisions} revisions: {unchecked[0]}{suffix}", name)
            return
        # Drift the baseline accepts is still drift: only what is new is "no".
        drift = (
            "no new drift"
            if any(p.startswith(baselines.DRIFT) for p in report.problems)
            else "no drift"
        )
        reporting.ok(
            f"{report.revisions} revisions: single head, round trips, {drift}, notes match{suffix}",
            name,
        )


def check(
    config: ProjectConfig, dialect: str | None = None, *, cache: bool = True
) -> list[DialectReport]:
    """Run the check for the selected dialects; raise :class:`CheckFailed` naming how many
    problems and where if any is not in the project's baseline. ``cache=False``: replay every
    revision (``--no-cache``)."""
    accepted = baselines.load(config.baseline)
    reports = run_checks(config, dialect, accepted, cache=cache)
    failed = {r.dialect: r.new(accepted.of(r.dialect)) for r in reports}
    failed = {d: new for d, new in failed.items() if new}
    if failed:
        count = sum(len(new) for new in failed.values())
        drift = any(p.startswith(baselines.DRIFT) for new in failed.values() for p in new)
        hint = (
            " If this drift predates contribkit 0.3, which also compares CHECK constraints, "
            "server defaults, enum values and indexes on expressions, record it once with "
            "'contribkit baseline'."
            if drift and config.baseline is not None and config.baseline.exists()
            else ""
        )
        raise CheckFailed(
            f"migrations check failed with {count} problem(s) in {', '.join(failed)}: "
            "fix those above (drift means the models changed: generate a migration with "
            "'migrate -m <what_changed>'; an existing project records what it already gets "
            "wrong with 'contribkit baseline')" + hint
        )
    return reports


def write_baseline(
    config: ProjectConfig, dialect: str | None = None, *, cache: bool = True
) -> tuple[Path, baselines.Baseline]:
    """``contribkit baseline``: record the history as it is, and every problem it has now.

    With ``dialect``, the other dialects' entries are kept as they were."""

    path = config.baseline
    assert path is not None
    current = baselines.load(path)  # fails on a damaged file before any work
    reports = run_checks(config, dialect, current, as_baseline=True, cache=cache)
    dialects = dict(current.dialects)
    for report in reports:
        dialects[report.dialect] = baselines.DialectBaseline(
            frozenset(report.history), frozenset(report.problems)
        )
    result = baselines.Baseline(dialects)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, baselines.render(result))
    return path, result
