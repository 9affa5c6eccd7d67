"""The states ``check`` and ``migrate`` reuse from earlier runs (contribkit.workflows.migrations.snapshots):
used only while everything they follow from is unchanged, on real SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa
from history_support import append_revision, models_source, revision_name
from migrations_support import Project

from contribkit.workflows.migrations import snapshots, statestore

REVISIONS = 6  # the grown fixture's
VERSION_TABLE = ["alembic_version", None]


def engine(database: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{database}", poolclass=sa.pool.NullPool)


def reused(output: str, dialect: str) -> int:
    """How many revisions the run took from the cache (0: it replayed them all). Fails on
    output that says neither: a reworded line must not read as a replay."""
    found = re.search(rf"{dialect}: (\d+) of \d+ revisions (proven|applied) by an earlier", output)
    if found:
        return int(found.group(1))
    lines = [line for line in output.splitlines() if f"{dialect}: " in line]
    unread = [line for line in lines if "earlier run" in line]
    assert not unread, f"a cache line this helper cannot read: {unread}"
    assert lines, f"nothing about {dialect} in the output:\n{output}"
    return 0


def check(project: Project, dialect: str, *args: str) -> tuple[int, str]:
    outcome = project.cli("check", "--dialect", dialect, *args)
    return outcome.code, outcome.out + outcome.err


def revision(project: Project, dialect: str, n: int) -> Path:
    return project.root / "migrations" / "versions" / dialect / revision_name(dialect, n)


def test_a_recheck_replays_only_what_changed(grown, dialect) -> None:
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, 0), out
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS), out

    # A new revision: only it is replayed.
    append_revision(grown.root, REVISIONS + 1)
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS), out
    assert f"{REVISIONS + 1} revisions: single head" in out

    # An edit to a revision: it and everything after it are replayed, and what the edit broke
    # is found (nothing was trusted). The newest revision, the one most often edited by hand:
    newest = revision(grown, dialect, REVISIONS + 1)
    newest.write_text(newest.read_text().replace(f'"c{REVISIONS + 1}")', '"c999")'))
    code, out = check(grown, dialect)
    assert code == 1 and reused(out, dialect) == REVISIONS, out
    assert f"! {dialect}: {newest.name}: " in out
    # One in the middle of the history (no state was kept there: all of it is replayed).
    third = revision(grown, dialect, 3)
    third.write_text(third.read_text().replace('"c3")', '"c999")'))
    code, out = check(grown, dialect)
    assert code == 1 and reused(out, dialect) == 0, out
    assert f"! {dialect}: {third.name}: " in out


def test_a_model_change_reuses_only_rows_it_did_not_shape(grown, dialect) -> None:
    assert check(grown, dialect)[0] == 0
    models = grown.root / "grown" / "models.py"
    # A new column no seeded row came from: every state still holds.
    models.write_text(models_source(REVISIONS, extra_column=True))
    code, out = check(grown, dialect)
    assert code == 1 and reused(out, dialect) == REVISIONS, out
    assert f"! {dialect}: drift: add column t0.pending" in out
    # A column whose seeded values came from the models: the states with those rows are not used.
    models.write_text(models_source(REVISIONS).replace('"name", sa.String(40)', '"name", sa.Text'))
    code, out = check(grown, dialect)
    assert reused(out, dialect) == 0, out


def test_a_baseline_history_is_reused_whatever_the_models_say(grown, dialect) -> None:
    """The baseline's revisions run without rows: their states do not depend on the models."""
    assert grown.cli("baseline", "--dialect", dialect).code == 0
    models = grown.root / "grown" / "models.py"
    models.write_text(models_source(REVISIONS).replace('"name", sa.String(40)', '"name", sa.Text'))
    code, out = check(grown, dialect)
    assert code == 1, out
    assert reused(out, dialect) == REVISIONS, out
    assert f"! {dialect}: drift:" in out  # the change itself is still found


def test_another_library_version_replays_everything(grown, dialect, monkeypatch) -> None:
    assert check(grown, dialect)[0] == 0
    real = snapshots._version
    monkeypatch.setattr(
        snapshots, "_version", lambda name: "0.0-other" if name == "alembic" else real(name)
    )
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, 0), out
    monkeypatch.undo()  # the control: with today's versions again, the states are used
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS), out


def test_an_edited_env_py_replays_everything(grown, dialect) -> None:
    assert check(grown, dialect)[0] == 0
    env = grown.root / "migrations" / "env.py"
    env.write_text(env.read_text() + "\n# the project's own option\n")
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, 0), out
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS), out


def test_another_isolation_level_replays_everything(grown, dialect) -> None:
    """How the revisions ran (``isolation_level``) decides what a state holds, as the driver
    does: a state made in another is not used."""
    assert check(grown, dialect)[0] == 0
    pyproject = grown.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.contribkit]\n",
            f'[tool.contribkit]\nisolation_level = {{ {dialect} = "SERIALIZABLE" }}\n',
        )
    )
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, 0), out


def test_states_committed_to_git_are_not_used(grown, dialect) -> None:
    """They would come from someone else's machine (or be written by hand)."""
    assert check(grown, dialect)[0] == 0
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=grown.root, check=True)
    subprocess.run([*git, "add", "-f", ".contribkit/cache"], cwd=grown.root, check=True)
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, 0), out
    assert "is tracked by git: its states are not used" in out


def test_a_cache_reached_through_a_symbolic_link_is_not_used(grown, dialect, tmp_path) -> None:
    """A link can lead to states another user or checkout writes."""
    assert check(grown, dialect)[0] == 0
    cache = grown.root / ".contribkit" / "cache"
    cache.rename(tmp_path / "elsewhere")
    cache.symlink_to(tmp_path / "elsewhere")
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, 0), out
    assert f"{cache} is a symbolic link: the cache is not used" in out


def test_a_cached_check_reports_what_a_full_replay_reports(legacy, dialect) -> None:
    """A history with a revision that fails with rows, one named oddly and drift: the problems
    come back from the saved states exactly as a replay finds them."""
    first = legacy.cli("check", "--dialect", dialect)
    again = legacy.cli("check", "--dialect", dialect)
    replayed = legacy.cli("check", "--dialect", dialect, "--no-cache")
    assert first.code == again.code == replayed.code == 1
    assert reused(again.out, dialect) > 0, again.out

    def problems(output: str) -> list[str]:
        return [line for line in output.splitlines() if line.startswith("! ")]

    assert problems(first.out) == problems(again.out) == problems(replayed.out)
    assert len(problems(first.out)) >= 3


def test_only_the_most_recently_used_states_are_kept(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(statestore, "KEEP", 2)
    store = statestore.SnapshotStore(tmp_path, "sqlite")
    database = tmp_path / "db.sqlite"
    sqlite3.connect(database).close()
    for age, key in ((200, "a"), (100, "b"), (0, "c")):
        store.save(key, engine(database), VERSION_TABLE, {"problems": [], "models": {}})
        used = time.time() - age  # last used that long ago
        os.utime(tmp_path / "sqlite" / f"{key}.json", (used, used))
    assert [store.has(k) for k in ("a", "b", "c")] == [False, True, True]
    assert sorted(p.name for p in (tmp_path / "sqlite").iterdir()) == [
        "b.json",
        "b.sqlite",
        "c.json",
        "c.sqlite",
    ]


def test_no_cache_neither_reads_nor_writes(grown, dialect) -> None:
    cache = grown.root / ".contribkit" / "cache"
    code, out = check(grown, dialect, "--no-cache")
    assert code == 0, out
    assert not cache.exists()
    assert check(grown, dialect)[0] == 0
    saved = sorted(p.name for p in cache.rglob("*"))
    code, out = check(grown, dialect, "--no-cache")
    assert (code, reused(out, dialect)) == (0, 0), out
    assert sorted(p.name for p in cache.rglob("*")) == saved


def test_a_damaged_state_is_replayed_instead(grown, dialect) -> None:
    assert check(grown, dialect)[0] == 0
    cache = grown.root / ".contribkit" / "cache"
    damaged = [p for p in cache.rglob("*") if p.is_file() and p.suffix != ".json"]
    assert damaged
    for path in damaged:
        path.write_bytes(b"not a database")
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, 0), out
    assert "a state in the cache could not be used" in out


def test_migrate_starts_from_the_head_an_earlier_migrate_reached(grown, dialect) -> None:
    """migrate needs a plain upgrade's state (a check's holds rows and round trips): the first
    migrate saves the head it reached, the next one starts from there."""
    models = grown.root / "grown" / "models.py"
    models.write_text(models_source(REVISIONS, extra_column=True))
    first = grown.cli("migrate", "-m", "add_pending", "--dialect", dialect)
    assert first.code == 0 and reused(first.out, dialect) == 0, first.out + first.err
    pending = '    sa.Column("pending", sa.Integer(), nullable=True),\n'
    later = '    sa.Column("later", sa.Integer(), nullable=True),\n'
    models.write_text(models.read_text().replace(pending, pending + later))
    second = grown.cli("migrate", "-m", "add_later", "--dialect", dialect)
    assert second.code == 0, second.out + second.err
    assert reused(second.out, dialect) == REVISIONS
    written = [line for line in second.out.splitlines() if line.startswith("✓ wrote")]
    assert len(written) == 1 and "add_later" in written[0]
    code, out = check(grown, dialect)
    assert code == 0, out
    assert f"{REVISIONS + 2} revisions: single head" in out


def test_a_module_a_revision_imports_is_part_of_its_key(grown, dialect) -> None:
    """A project module a revision imports: its source is part of what the revision runs."""
    (grown.root / "grown" / "naming.py").write_text("PREFIX = 'c'\n")
    newest = revision(grown, dialect, REVISIONS)
    newest.write_text(
        newest.read_text().replace(
            "from alembic import op\n",
            "from alembic import op\nfrom grown.naming import (\n    PREFIX,  # noqa: F401\n)\n",
        )
    )
    assert check(grown, dialect)[0] == 0
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS), out
    (grown.root / "grown" / "naming.py").write_text("PREFIX = 'column_'\n")
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS - 1), out


def test_a_changed_variant_counts_as_a_model_change(grown, dialect) -> None:
    """A variant is what the seeder's values follow on that dialect; its repr hides it."""
    models = grown.root / "grown" / "models.py"
    plain = '"name", sa.String(40)'
    models.write_text(
        models.read_text().replace(
            plain, f'"name", sa.String(40).with_variant(sa.Integer(), "{dialect}")'
        )
    )
    check(grown, dialect)
    _, out = check(grown, dialect)
    assert reused(out, dialect) == REVISIONS, out
    models.write_text(models.read_text().replace("sa.Integer(), ", "sa.Boolean(), "))
    _, out = check(grown, dialect)
    assert reused(out, dialect) == 0, out


def test_what_a_killed_run_left_is_swept_once_it_is_old(tmp_path) -> None:
    """A run killed while saving leaves a temporary file, or data without its meta file."""
    store = statestore.SnapshotStore(tmp_path, "sqlite")
    database = tmp_path / "db.sqlite"
    sqlite3.connect(database).close()
    folder = tmp_path / "sqlite"
    folder.mkdir()
    old = time.time() - statestore.STALE_SECONDS - 60
    for name in (".a.sqlite.x1.tmp", "b.sqlite", ".c.json.x2.tmp", "d.sqlite"):
        (folder / name).write_bytes(b"left")
    for name in (".a.sqlite.x1.tmp", "b.sqlite"):
        os.utime(folder / name, (old, old))
    store.save("e", engine(database), VERSION_TABLE, {"problems": [], "models": {}})
    # The old ones are gone; the recent ones may belong to a run that is still saving.
    assert sorted(p.name for p in folder.iterdir()) == [
        ".c.json.x2.tmp",
        "d.sqlite",
        "e.json",
        "e.sqlite",
    ]


def test_the_key_covers_every_layer_of_contribkit(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An edit anywhere in contribkit (the SQLite rules, the engines) invalidates the states."""
    import contribkit
    from contribkit.workflows.migrations import snapshots

    hashed: list[str] = []
    monkeypatch.setattr(snapshots, "_file_digest", lambda f: hashed.append(f) or "-")
    snapshots._contribkit_source.cache_clear()
    try:
        snapshots._contribkit_source()
    finally:
        snapshots._contribkit_source.cache_clear()
    package = Path(contribkit.__file__).resolve().parent
    names = {Path(f).relative_to(package).as_posix() for f in hashed}
    assert {"databases/sqlite.py", "core/config.py", "commands/table.py"} <= names
    assert "workflows/migrations/verify.py" in names
