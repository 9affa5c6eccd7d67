"""Every bad input the migrations issue lists: one sentence, exit 2, nothing written."""

from __future__ import annotations

import shutil

import pytest


def assert_refused(project, outcome, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert outcome.code == 2, outcome.out + outcome.err
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1, outcome.err
    assert "Traceback" not in outcome.err + outcome.out
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def adopted(sample):  # type: ignore[no-untyped-def]
    assert sample.cli("init").code == 0
    assert sample.cli("migrate", "-m", "initial", "--dialect", "sqlite").code == 0
    return sample


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--dialect", "oracle"], "unknown dialect 'oracle': choose one of sqlite, "),
        (["-m", "add x/../y"], "contains '.' '/'"),
        (["-m", "x; rm -rf ~"], "contains ';' '~'"),
        (["-m", "   "], "the migration message is empty"),
        (["-m", "a" * 61], "is 61 characters long"),
        (["-m", "9lives"], "must start with a letter"),
        ([], "the migration message is empty"),
    ],
)
def test_bad_arguments(adopted, args: list[str], fragment: str) -> None:
    before = adopted.snapshot()
    if "-m" not in args and args:
        args = ["-m", "fine_message", *args]
    assert_refused(adopted, adopted.cli("migrate", *args), fragment)
    assert adopted.snapshot() == before


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--dialect", "sqlite", "--dialect", "postgresql"],
        ["migrate", "-m", "a", "-m", "b"],
    ],
)
def test_an_option_given_twice_is_refused(adopted, args: list[str]) -> None:
    """Of two values only the last one ran, silently."""
    before = adopted.snapshot()
    outcome = adopted.cli(*args)
    assert outcome.code == 2, outcome.out + outcome.err
    assert "given twice" in outcome.err and "give it once" in outcome.err
    assert "→" not in outcome.out  # nothing ran
    assert adopted.snapshot() == before


def test_db_upgrade_takes_no_yes_that_it_would_ignore(adopted) -> None:
    outcome = adopted.cli("db", "upgrade", "-y")
    assert outcome.code == 2
    assert "unrecognized arguments: -y" in outcome.err


def test_dialect_not_in_the_config(adopted) -> None:
    pyproject = adopted.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('["sqlite", "postgres"]', '["sqlite"]'))
    before = adopted.snapshot()
    outcome = adopted.cli("migrate", "-m", "x", "--dialect", "postgres")
    assert_refused(adopted, outcome, "dialect 'postgresql' is not configured for this project")
    assert adopted.snapshot() == before


def test_models_that_fail_to_import(adopted) -> None:
    adopted.edit(
        "inventory/models.py",
        "import sqlalchemy as sa",
        "import sqlalchemy as sa\nimport no_such_module",
    )
    before = adopted.snapshot()
    outcome = adopted.cli("migrate", "-m", "x")
    assert_refused(
        adopted,
        outcome,
        "cannot import models 'inventory.models:metadata': ModuleNotFoundError: No module named 'no_such_module'",
    )
    assert adopted.snapshot() == before


def test_missing_migrations_folder_suggests_init(sample) -> None:
    outcome = sample.cli("migrate", "-m", "x")
    assert_refused(sample, outcome, "run 'contribkit init'")
    assert not (sample.root / "migrations").exists()


def test_multiple_heads_suggest_a_merge(adopted) -> None:
    first = adopted.versions("sqlite")[0]
    rev = first.name.split("_")[4]
    for branch in ("b0b0b0b0b0b0", "c0c0c0c0c0c0"):  # two children of one parent: two heads
        text = first.read_text().replace(f'revision: str = "{rev}"', f'revision: str = "{branch}"')
        text = text.replace(
            "down_revision: str | Sequence[str] | None = None",
            f'down_revision: str | Sequence[str] | None = "{rev}"',
        )
        first.with_name(first.name.replace(rev, branch)).write_text(text)
    before = adopted.snapshot()
    outcome = adopted.cli("migrate", "-m", "x", "--dialect", "sqlite")
    assert_refused(adopted, outcome, "sqlite migrations have 2 heads", "run 'contribkit rebase'")
    assert adopted.snapshot() == before


@pytest.mark.dialects("sqlite", "postgresql")  # PostgreSQL's own URL and driver
def test_unreachable_external_postgresql_hides_the_password(adopted, monkeypatch) -> None:
    monkeypatch.setenv("CONTRIBKIT_POSTGRESQL_URL", "postgresql://bob:s3cret@127.0.0.1:9/postgres")
    before = adopted.snapshot()
    outcome = adopted.cli("migrate", "-m", "x", "--dialect", "postgres")
    assert_refused(
        adopted,
        outcome,
        "PostgreSQL at postgresql+psycopg://bob:***@127.0.0.1:9/postgres is unreachable",
    )
    assert "s3cret" not in outcome.err + outcome.out
    assert adopted.snapshot() == before


@pytest.mark.dialects("sqlite", "postgresql")  # PostgreSQL's driver
def test_missing_driver(adopted, monkeypatch) -> None:
    monkeypatch.setenv(
        "CONTRIBKIT_POSTGRESQL_URL", "postgresql+pg8000://bob:s3cret@127.0.0.1/postgres"
    )
    before = adopted.snapshot()
    outcome = adopted.cli("migrate", "-m", "x", "--dialect", "postgres")
    assert_refused(adopted, outcome, "driver", "is not installed: add the package 'pg8000'")
    assert "s3cret" not in outcome.err
    assert adopted.snapshot() == before


def test_an_env_py_from_before_the_layers_names_the_new_import(adopted) -> None:
    env = adopted.root / "migrations" / "env.py"
    env.write_text(
        env.read_text().replace(
            "from contribkit.env import", "from contribkit.migrations.runtime import"
        )
    )
    before = adopted.snapshot()
    assert_refused(
        adopted,
        adopted.cli("check"),
        "imports contribkit.migrations.runtime, which is now contribkit.env: change that "
        "import to 'from contribkit.env import run_env'",
    )
    assert adopted.snapshot() == before


@pytest.fixture
def upgraded(adopted, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """The adopted sample with its real SQLite database at the first (and only) revision."""
    monkeypatch.setenv("INVENTORY_DATABASE_URL", f"sqlite:///{tmp_path / 'real.db'}")
    assert adopted.cli("db", "upgrade").code == 0
    adopted.head = adopted.versions("sqlite")[0].name.split("_")[4]
    return adopted


@pytest.mark.parametrize(
    ("revision", "fragment"),
    [
        ("-0", "cannot downgrade by '-0': give -1 or more, a revision id, or base"),
        ("-x", "cannot downgrade by '-x'"),
        ("-2", "is 1 revision(s) above base: -2 would go past it; give -r base"),
        ("abc", "No such revision or branch 'abc'"),
    ],
)
def test_a_downgrade_target_that_cannot_be_is_one_line(upgraded, revision, fragment) -> None:
    outcome = upgraded.cli("db", "downgrade", f"--revision={revision}", "-y")
    assert_refused(upgraded, outcome, fragment)
    assert f"{upgraded.head} (up to date)" in upgraded.cli("db", "current").out


def test_a_downgrade_to_where_the_database_is_says_where_that_is(upgraded) -> None:
    outcome = upgraded.cli("db", "downgrade", "-r", "head", "-y")
    assert outcome.code == 0, outcome.err
    assert f"is at {upgraded.head}, not above head: nothing to downgrade" in outcome.out
    assert "at base" not in outcome.out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["db", "current"], "cannot read the revision of"),
        (["db", "upgrade"], "cannot read the revision of"),
        (["db", "downgrade", "-y"], "cannot read the revision of"),
        (["db", "reset", "-y"], "cannot reset"),
    ],
    ids=" ".join,
)
def test_a_file_that_is_not_a_database_is_one_line(
    adopted, monkeypatch, tmp_path, args, fragment
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 100)
    monkeypatch.setenv("INVENTORY_DATABASE_URL", f"sqlite:///{path}")
    assert_refused(adopted, adopted.cli(*args), fragment, "file is not a database")
    assert path.read_text() == "these are my notes, not a database\n" * 100


def test_migrate_where_contribkit_cannot_keep_its_folder(adopted) -> None:
    shutil.rmtree(adopted.root / ".contribkit")
    (adopted.root / ".contribkit").write_text("a file in the way\n")
    adopted.edit("inventory/models.py", "sa.String(80)", "sa.String(120)")
    before = adopted.snapshot()
    outcome = adopted.cli("migrate", "-m", "widen", "--dialect", "sqlite")
    assert outcome.code == 2, outcome.err
    [error] = [line for line in outcome.err.splitlines() if line.startswith("error:")]
    assert "cannot write" in error and "make it a writable folder" in error
    assert "Traceback" not in outcome.err
    assert adopted.snapshot() == before
