"""A project whose own tooling renames what Alembic writes (Airflow's
``0047_3_0_0_add_dag_versioning.py``: a running number and the release every revision names):
``[tool.contribkit] file_template`` states the names, migrate writes them, check holds new
files to them (tests/template_project: one history, its own plain Alembic)."""

from __future__ import annotations

import sqlalchemy as sa
from test_adopt_template import DIALECTS, FIRST, MODELS, SECOND, STARS, TITLE, alembic, problems

from contribkit.databases.throwaway import ephemeral_database

NUMBERED = "0001_2021_1_create_product_table.py", "0002_2022_1_add_review_table.py"
TEMPLATE = 'file_template = "%(number).4d_%(shop_release)s_%(slug)s"'


def numbered(template) -> None:  # type: ignore[no-untyped-def]
    """Rename the shop's history as its release tooling would, each file naming its release."""
    versions = template.migrations / "versions"
    olds = (
        versions / f"20210310_create_product_table_{FIRST}.py",
        versions / f"20220104_add_review_table_{SECOND}.py",
    )
    for old, new, release in zip(olds, NUMBERED, ("2021.1", "2022.1"), strict=True):
        text = old.read_text().replace(
            "depends_on = None\n", f'depends_on = None\nshop_release = "{release}"\n'
        )
        (versions / new).write_text(text)
        old.unlink()
    template.edit(
        "pyproject.toml",
        'database_url_env = "SHOP_DATABASE_URL"',
        f'database_url_env = "SHOP_DATABASE_URL"\n{TEMPLATE}',
    )


def test_migrate_writes_the_next_number_and_the_release(template) -> None:
    numbered(template)
    assert template.cli("baseline").code == 0
    template.edit(MODELS, STARS, STARS + TITLE)
    made = template.cli("migrate", "-m", "add_review_title")
    assert made.code == 0, made.out + made.err
    names = sorted(p.name for p in template.migrations.glob("versions/*.py"))
    assert names == [*NUMBERED, "0003_2022_1_add_review_title.py"]
    checked = template.cli("check")
    assert checked.code == 0, checked.out + checked.err
    for dialect in DIALECTS:  # the project's own tooling runs it
        with ephemeral_database(dialect) as url:
            alembic(template, url, "upgrade", "head")
            engine = sa.create_engine(url)
            try:
                with engine.connect() as connection:
                    columns = {c["name"] for c in sa.inspect(connection).get_columns("review")}
            finally:
                engine.dispose()
            assert "title" in columns, dialect


def test_check_holds_a_new_file_to_the_numbered_names(template) -> None:
    numbered(template)
    assert template.cli("baseline").code == 0
    template.edit(MODELS, STARS, STARS + TITLE)
    assert template.cli("migrate", "-m", "add_review_title").code == 0
    versions = template.migrations / "versions"
    (versions / "0003_2022_1_add_review_title.py").rename(versions / "3_add_review_title.py")
    outcome = template.cli("check", "--dialect", "sqlite")
    assert outcome.code == 1
    assert "sqlite: 3_add_review_title.py: not named NNNN_<shop_release>_<slug>.py" in problems(
        outcome
    )


def test_a_token_nothing_fills_is_one_line(template) -> None:
    numbered(template)
    template.edit("pyproject.toml", "%(shop_release)s", "%(airflow_version)s")
    assert template.cli("baseline").code == 0
    template.edit(MODELS, STARS, STARS + TITLE)
    before = template.snapshot()
    outcome = template.cli("migrate", "-m", "add_review_title")
    assert outcome.code == 2, outcome.out + outcome.err
    assert outcome.err.startswith("error: sqlite: generate: file_template names %(airflow_version)")
    assert len(outcome.err.strip().splitlines()) == 1
    assert template.snapshot() == before


def test_a_rebased_name_takes_a_new_time_or_number_and_keeps_the_rest() -> None:
    from datetime import datetime

    from contribkit.workflows.migrations import filenames

    later = datetime(2026, 12, 6, 21, 0, 5)
    assert (
        filenames.renamed(
            filenames.DEFAULT_TEMPLATE,
            "2026_11_21_051500_1a2b3c4d5e6f_add_x.py",
            "1a2b3c4d5e6f",
            later,
            1,
        )
        == "2026_12_06_210005_1a2b3c4d5e6f_add_x.py"
    )
    numbered = "%(number).4d_%(rev)s_%(slug)s"
    assert filenames.renamed(numbered, "0007_abc_add_x.py", "abc", later, 12) == "0012_abc_add_x.py"
    assert filenames.renamed(filenames.ALEMBIC_TEMPLATE, "abc_add_x.py", "abc", later, 3) is None
    assert filenames.renamed(numbered, "handmade.py", "abc", later, 3) is None
