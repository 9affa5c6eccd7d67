"""``migrate --check``: is every dialect's history sound and in step with the models and notes?

For each dialect, on a fresh database: exactly one head; SQLite revisions keep their
``PRAGMA foreign_keys`` bracket; every revision upgrades, and (with seeded rows and foreign keys
on) downgrades and re-upgrades one step at a time without losing rows; zero drift at head; and
MIGRATION-NOTES.md names exactly the revision files that exist.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from contribkit import console
from contribkit.config import ProjectConfig
from contribkit.errors import CheckFailed, ContribkitError
from contribkit.migrations.layout import REVISION_FILE, Migrations


@dataclass
class DialectReport:
    dialect: str
    revisions: int = 0
    problems: list[str] = field(default_factory=list)


def _pragma_bracket_problems(path: Path) -> list[str]:
    """SQLite revisions must switch foreign keys off first and on last in both functions."""
    from contribkit.migrations.generate import PRAGMA_OFF, PRAGMA_ON

    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = []
    for func in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        if func.name not in ("upgrade", "downgrade"):
            continue
        body = [n for n in func.body if not isinstance(n, ast.Pass)]
        if not body:
            continue
        first, last = ast.unparse(body[0]), ast.unparse(body[-1])
        if PRAGMA_OFF not in first or PRAGMA_ON not in last:
            problems.append(
                f"{path.name}: {func.name}() must start with op.execute('{PRAGMA_OFF}') "
                f"and end with op.execute('{PRAGMA_ON}')"
            )
    return problems


def check_dialect(migrations: Migrations, dialect: str, recorded: set[str]) -> DialectReport:
    from contribkit.databases import ephemeral_database
    from contribkit.migrations.verify import TrialDatabase, round_trip

    report = DialectReport(dialect)
    script = migrations.script(dialect)
    heads = script.get_heads()
    if len(heads) > 1:
        report.problems.append(f"{len(heads)} heads ({', '.join(sorted(heads))}): merge them")
        return report
    revisions = list(reversed(list(script.walk_revisions())))
    report.revisions = len(revisions)
    for rev in revisions:
        name = Path(rev.path).name
        if not REVISION_FILE.match(name):
            report.problems.append(f"{name}: not named YYYY_MM_DD_HHMMSS_<rev>_<slug>.py")
        if dialect == "sqlite":
            report.problems += _pragma_bracket_problems(Path(rev.path))
    on_disk = {rev.revision for rev in revisions}
    report.problems += [
        f"revision {r} has no entry in the notes" for r in sorted(on_disk - recorded)
    ]
    report.problems += [
        f"the notes name {r}, which has no revision file" for r in sorted(recorded - on_disk)
    ]

    with ephemeral_database(dialect) as url, TrialDatabase(migrations, dialect, url, script) as db:
        previous = None
        for rev in revisions:
            try:
                db.seed()
                round_trip(db, rev.revision, previous)
            except ContribkitError as exc:
                report.problems.append(exc.message)
                return report
            previous = rev.revision
        report.problems += [f"drift: {line}" for line in db.drift()]
    return report


def check(config: ProjectConfig, dialect: str | None = None) -> list[DialectReport]:
    """Run the check for the selected dialects, printing each problem as it is found; raise
    :class:`CheckFailed` naming how many problems and where if there were any."""
    from contribkit.databases import prewarm
    from contribkit.migrations.layout import project_migrations
    from contribkit.migrations.migrate import step
    from contribkit.migrations.notes import recorded_revisions

    dialects = config.select_dialects(dialect)
    prewarm(dialects)
    migrations = project_migrations(config, dialects)
    notes_text = (
        config.notes.read_text(encoding="utf-8") if config.notes and config.notes.exists() else ""
    )
    recorded = recorded_revisions(notes_text)
    reports = []
    for name in dialects:
        with step(name, "check"):
            report = check_dialect(migrations, name, recorded.get(name, set()))
        reports.append(report)
        if report.problems:
            for problem in report.problems:
                console.warn(f"{name}: {problem}")
        else:
            console.ok(
                f"{name}: {report.revisions} revisions: single head, round trips, no drift, notes match"
            )
    failed = [r for r in reports if r.problems]
    if failed:
        count = sum(len(r.problems) for r in failed)
        raise CheckFailed(
            f"migrations check failed with {count} problem(s) in "
            f"{', '.join(r.dialect for r in failed)}: fix those above "
            "(drift means the models changed: generate a migration with 'migrate -m <what_changed>')"
        )
    return reports
