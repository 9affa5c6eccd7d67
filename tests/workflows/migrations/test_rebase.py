"""``contribkit rebase`` (two branches that each added a migration) and ``migrate --amend`` (a
second change folded into the branch's revision), in real git repositories."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import sqlalchemy as sa
from alembic import command
from migrations_support import SAMPLE_SERVER, Project, plain_alembic

from contribkit.databases.throwaway import ephemeral_database

MODELS = "inventory/models.py"
CITY = '    sa.Column("city", sa.String(80), nullable=True),\n'
SKU = '    sa.Column("sku", sa.String(40), nullable=False),\n'
DIALECTS = ("sqlite", SAMPLE_SERVER)
AMEND = ("migrate", "--amend")


def git(project: Project, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=project.root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 or args[0] == "merge", result.stderr
    return result.stdout


def migrate(project: Project, slug: str) -> None:
    outcome = project.cli("migrate", "-m", slug)
    assert outcome.code == 0, outcome.out + outcome.err


def on_branch(project: Project, branch: str, start: str, line: str, after: str, slug: str) -> None:
    """A branch from ``start`` that adds the model line ``line`` after ``after`` and migrates."""
    git(project, "checkout", "-q", "-b", branch, start)
    project.edit(MODELS, after, after + line)
    migrate(project, slug)
    commit_all(project, slug)


def commit_all(project: Project, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", message)


def merge_main_and_rebase(project: Project) -> None:
    git(project, "merge", "-q", "main")
    outcome = project.cli("rebase")
    assert outcome.code == 0, outcome.out + outcome.err


def into_main(project: Project, branch: str) -> None:
    git(project, "checkout", "-q", "main")
    git(project, "merge", "-q", branch)


def column(name: str) -> str:
    return f'    sa.Column("{name}", sa.String(20), nullable=True),\n'


@pytest.fixture(params=["per-dialect", "shared"])
def layouts(request, sample: Project) -> Project:  # type: ignore[no-untyped-def]
    """The sample project in git, per dialect or shared, its first migration on ``main``."""
    if request.param == "shared":
        sample.edit(
            "pyproject.toml", 'notes = "NOTES.md"\n', 'notes = "NOTES.md"\nlayout = "shared"\n'
        )
    return in_git(sample)


@pytest.fixture
def repo(sample: Project) -> Project:
    """The sample project in git, its first migration on ``main``."""
    return in_git(sample)


def in_git(sample: Project) -> Project:
    git(sample, "init", "-q", "-b", "main")
    (sample.root / ".gitignore").write_text("__pycache__/\n.contribkit/\n")
    assert sample.cli("init").code == 0
    migrate(sample, "initial inventory")
    commit_all(sample, "initial")
    return sample


def two_branches(
    repo: Project, theirs: tuple[str, str], ours: tuple[str, str], *, models: str = "both"
) -> None:
    """``a`` adds ``theirs`` (line, after) and is merged into main; ``b`` adds ``ours``, then
    merges main (the notes conflict). Where the models conflict too, the merge keeps both
    sides' lines, or ``models="ours"``: b's."""
    on_branch(repo, "a", "main", *theirs, "add note a")
    into_main(repo, "a")
    on_branch(repo, "b", "main~1", *ours, "add note b")
    # pushed with -u: its upstream is itself, which is never the target
    git(repo, "config", "branch.b.remote", ".")
    git(repo, "config", "branch.b.merge", "refs/heads/b")
    git(repo, "merge", "-q", "main")
    path = repo.root / MODELS
    if models == "ours":
        git(repo, "checkout", "--ours", MODELS)
    elif "<<<<<<<" in path.read_text():
        lines = path.read_text().splitlines(keepends=True)
        path.write_text(
            "".join(x for x in lines if not x.startswith(("<<<<<<<", "=======", ">>>>>>>")))
        )


def refused(repo: Project, *said: str, args: tuple[str, ...] = ("rebase",), code: int = 1) -> None:
    """The command ``args`` exits ``code`` saying each of ``said``, and every file is as it was."""
    before = repo.snapshot()
    outcome = repo.cli(*args)
    assert outcome.code == code, outcome.out + outcome.err
    for text in said:
        assert text in outcome.err
    assert repo.snapshot() == before


def down_revision(path) -> str:  # type: ignore[no-untyped-def]
    line = next(x for x in path.read_text().splitlines() if x.startswith("down_revision"))
    return line.split("=")[1].strip().strip("'\"")


def versions(repo: Project, dialect: str) -> list:  # type: ignore[type-arg]
    """The revision files ``dialect`` runs: its own folder's, or the shared one's."""
    shared = repo.migrations / "versions"
    return sorted(shared.glob("*.py")) or repo.versions(dialect)


def revision_file(repo: Project, dialect: str, slug: str):  # type: ignore[no-untyped-def]
    """The one revision file of ``dialect`` written for ``slug`` (two written within one second
    sort by their ids, so position says nothing)."""
    (found,) = [p for p in versions(repo, dialect) if p.name.endswith(f"_{slug}.py")]
    return found


def revision_id(path) -> str:  # type: ignore[no-untyped-def]
    return path.name.split("_")[4]


def columns_after_plain_alembic(repo: Project, dialect: str, table: str, tmp_path) -> set[str]:  # type: ignore[no-untyped-def]
    """The columns of ``table`` once plain Alembic ran the history to its head, on a real
    database; the downgrade to base must leave no table behind."""
    with ephemeral_database(dialect) as url:
        folder = versions(repo, dialect)[0].parent
        config = plain_alembic(folder, url, tmp_path / dialect)
        command.upgrade(config, "head")
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                found = {c["name"] for c in sa.inspect(connection).get_columns(table)}
            command.downgrade(config, "base")
            with engine.connect() as connection:
                left = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
        finally:
            engine.dispose()
    assert left == set()
    return found


def test_two_branches_adding_columns_to_different_tables_are_put_in_one_line(
    layouts, tmp_path
) -> None:
    repo = layouts
    two_branches(repo, (column("note_a"), CITY), (column("note_b"), SKU))
    assert "<<<<<<<" in (repo.root / "NOTES.md").read_text()
    assert repo.cli("check").code == 1

    outcome = repo.cli("rebase")
    assert outcome.code == 0, outcome.out + outcome.err
    for dialect in DIALECTS:
        files = versions(repo, dialect)
        ours, theirs = (revision_file(repo, dialect, s) for s in ("add_note_b", "add_note_a"))
        assert len(files) == 3 and files[-1] == ours  # renamed: the names order by time
        assert down_revision(ours) == revision_id(theirs)
        assert f"Revises: {revision_id(theirs)}" in ours.read_text()
    notes = (repo.root / "NOTES.md").read_text()
    assert "<<<<<<<" not in notes and "=======" not in notes
    assert notes.index("## Add note b") < notes.index("## Add note a") < notes.index("## Initial")
    assert repo.cli("check").code == 0
    for dialect in DIALECTS:
        assert {"note_a"} <= columns_after_plain_alembic(repo, dialect, "warehouse", tmp_path)
        assert {"note_b"} <= columns_after_plain_alembic(repo, dialect, "item", tmp_path / "i")


def test_two_columns_of_one_table_and_a_third_branch_after_them(repo) -> None:
    two_branches(repo, (column("note_a"), CITY), (column("note_b"), CITY))
    assert repo.cli("rebase").code == 0
    commit_all(repo, "merge main")
    into_main(repo, "b")
    # c started before b was merged: after the merge its one revision follows b's
    on_branch(repo, "c", "a", column("note_c"), SKU, "add note c")
    merge_main_and_rebase(repo)
    for dialect in DIALECTS:
        slugs = [p.name.split("_", 5)[5] for p in repo.versions(dialect)]
        assert slugs[-1] == "add_note_c.py" and len(slugs) == 4
    assert repo.cli("check").code == 0


def test_the_same_column_on_both_branches_is_refused_and_nothing_changes(repo) -> None:
    two_branches(
        repo,
        (column("note"), CITY),
        ('    sa.Column("note", sa.String(40), nullable=True),\n', CITY),
        models="ours",
    )
    refused(repo, "column warehouse.note is changed by", "(this branch) and")


def test_a_rebased_revision_that_fails_its_check_changes_nothing(repo) -> None:
    two_branches(repo, (column("note_a"), CITY), (column("note_b"), SKU))
    ours = next(p for p in repo.versions("sqlite") if p.name.endswith("_add_note_b.py"))
    ours.write_text(
        ours.read_text().replace(
            "def upgrade() -> None:\n", "def upgrade() -> None:\n    raise RuntimeError('no')\n"
        )
    )
    refused(repo, "the rebased history fails its check on sqlite", "nothing was changed")


def test_notes_changed_outside_the_entries_on_both_branches_are_refused(repo) -> None:
    two_branches(repo, (column("note_a"), CITY), (column("note_b"), SKU))
    repo.edit(
        "NOTES.md",
        "# Migration notes\n",
        "<<<<<<< HEAD\n# Migration notes (b)\n=======\n# Migration notes\n>>>>>>> main\n",
    )
    refused(repo, "NOTES.md: the two branches changed the text before the entries")


def test_without_git_the_branch_names_its_revisions(repo, tmp_path) -> None:
    two_branches(repo, (column("note_a"), CITY), (column("note_b"), SKU))
    shutil.rmtree(repo.root / ".git")
    unnamed = repo.cli("rebase")
    assert unnamed.code == 2 and "--ours" in unnamed.err
    ours = [p.name.split("_")[4] for d in DIALECTS for p in repo.versions(d) if "note_b" in p.name]
    outcome = repo.cli("rebase", "--ours", ",".join(ours))
    assert outcome.code == 0, outcome.out + outcome.err
    assert repo.cli("check").code == 0


def test_one_head_is_nothing_to_rebase_and_a_bad_target_is_one_line(repo) -> None:
    outcome = repo.cli("rebase")
    assert outcome.code == 0
    assert "every history has one head: nothing to rebase" in outcome.said("ok")
    bad = repo.cli("rebase", "--onto", "no-such-branch")
    assert bad.code == 2
    assert (
        bad.err.strip()
        == "error: --onto no-such-branch: no such branch or commit in this repository."
    )


def test_amend_folds_a_second_change_into_the_branch_revision_on_every_dialect(
    repo, tmp_path
) -> None:
    on_branch(repo, "b", "main", column("note_b"), SKU, "add note b")
    first = {d: revision_file(repo, d, "add_note_b") for d in DIALECTS}
    repo.edit(MODELS, column("note_b"), column("note_b") + column("note_b2"))
    outcome = repo.cli("migrate", "--amend")
    assert outcome.code == 0, outcome.out + outcome.err
    for dialect in DIALECTS:
        assert len(versions(repo, dialect)) == 2  # still one revision for the branch
        assert revision_file(repo, dialect, "add_note_b") == first[dialect]  # its name, its id
        assert "note_b2" in first[dialect].read_text()
        assert {"note_b", "note_b2"} <= columns_after_plain_alembic(repo, dialect, "item", tmp_path)
    notes = (repo.root / "NOTES.md").read_text()
    assert notes.count("## Add note b") == 1
    assert repo.cli("check").code == 0


def test_amend_refuses_a_revision_the_target_branch_has(repo) -> None:
    on_branch(repo, "b", "main", column("note_b"), SKU, "add note b")
    into_main(repo, "b")
    git(repo, "checkout", "-q", "-b", "c")
    repo.edit(MODELS, column("note_b"), column("note_b") + column("note_c"))
    refused(repo, "add_note_b.py is on main already", args=AMEND, code=2)


def test_amend_refuses_a_revision_the_configured_database_ran(repo, tmp_path) -> None:
    on_branch(repo, "b", "main", column("note_b"), SKU, "add note b")
    repo.monkeypatch.setenv("INVENTORY_DATABASE_URL", f"sqlite:///{tmp_path / 'real.db'}")
    assert repo.cli("db", "upgrade").code == 0
    repo.edit(MODELS, column("note_b"), column("note_b") + column("note_b2"))
    refused(repo, "is at ", "downgrade it first", args=AMEND, code=2)
    assert repo.cli("migrate", "--amend", "--dialect", "sqlite").code == 2  # one change, all
    assert repo.cli("db", "downgrade", "-y").code == 0
    assert repo.cli("migrate", "--amend").code == 0
    assert repo.cli("check").code == 0


def test_amend_without_git_is_refused_saying_why(repo) -> None:
    on_branch(repo, "b", "main", column("note_b"), SKU, "add note b")
    shutil.rmtree(repo.root / ".git")
    repo.edit(MODELS, column("note_b"), column("note_b") + column("note_b2"))
    before = repo.snapshot()
    outcome = repo.cli("migrate", "--amend")
    assert outcome.code == 2
    assert (
        outcome.err.startswith("error: --amend: ") and "is not in a git repository" in outcome.err
    )
    assert repo.snapshot() == before


def test_amend_refuses_a_revision_with_code_of_its_own(repo) -> None:
    on_branch(repo, "b", "main", column("note_b"), SKU, "add note b")
    ours = revision_file(repo, "sqlite", "add_note_b")
    ours.write_text(
        ours.read_text().replace(
            "def downgrade() -> None:",
            '    op.execute("UPDATE item SET note_b = sku")\n\n\ndef downgrade() -> None:',
        )
    )
    repo.edit(MODELS, column("note_b"), column("note_b") + column("note_b2"))
    refused(repo, "holds code autogenerate did not write", args=AMEND, code=2)


def test_a_rebase_after_the_other_branch_amended_its_revision(repo) -> None:
    on_branch(repo, "a", "main", column("note_a"), CITY, "add note a")
    repo.edit(MODELS, column("note_a"), column("note_a") + column("note_a2"))
    assert repo.cli("migrate", "--amend").code == 0
    commit_all(repo, "amended")
    into_main(repo, "a")
    on_branch(repo, "b", "main~2", column("note_b"), SKU, "add note b")
    merge_main_and_rebase(repo)
    assert repo.cli("check").code == 0


def test_amend_refuses_when_the_change_is_gone(repo) -> None:
    on_branch(repo, "b", "main", column("note_b"), SKU, "add note b")
    repo.edit(MODELS, column("note_b"), "")
    refused(repo, "nothing is left to fold into it", args=AMEND)


def test_what_autogenerate_did_not_write_is_found_inside_its_block_too(tmp_path) -> None:
    from contribkit.workflows.migrations.amend import _code_of_its_own

    def found(body: str) -> int | None:
        path = tmp_path / "rev.py"
        path.write_text(f"def upgrade():\n{body}\n\ndef downgrade():\n    pass\n")
        return _code_of_its_own(path, {})

    start, end = (
        "    # ### commands auto generated by Alembic",
        "    # ### end Alembic commands ###",
    )
    pragma = '    op.execute("PRAGMA foreign_keys=OFF")\n    if op.get_bind().exec_driver_sql("x"):\n        pass'
    assert found(f"{start}\n{pragma}\n    op.add_column('t', sa.Column('c'))\n{end}") is None
    assert found(f"{start}\n    op.execute(sa.text('UPDATE t SET c = 1'))\n{end}") == 3
    assert found(f"{start}\n    op.bulk_insert(t, [])\n{end}") == 3
    assert found(f"{start}\n    op.add_column('t', sa.Column('c'))") == 2  # no end: not trusted
    assert found(f"{start}\n{end}\n    x = 1") == 4


def test_a_rebased_file_keeps_its_encoding_line_ends_and_mode(tmp_path) -> None:
    from contribkit.workflows.migrations.rebase import _reparented

    text = '# -*- coding: latin-1 -*-\r\n"""Caf\xe9\r\n\r\nRevises: aaa\r\n"""\r\ndown_revision = "aaa"\r\n'
    data = _reparented(text.encode("latin-1"), tmp_path / "r.py", "bbb")
    assert data == text.replace("aaa", "bbb").encode("latin-1")
