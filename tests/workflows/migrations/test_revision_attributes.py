"""A module attribute every revision of an adopted history carries (Airflow's
``airflow_version``): migrate writes it, check holds new revisions to it (tests/legacy_project)."""

from __future__ import annotations

import re

from test_adopt import migrate_memo, problems

RELEASE = "depends_on = None\n"


def carry_release(legacy, dialect: str) -> None:  # type: ignore[no-untyped-def]
    """Every revision of the history says which release of the ledger it came with."""
    for number, path in enumerate(legacy.versions(dialect)):
        text = path.read_text()
        assert RELEASE in text, path
        path.write_text(text.replace(RELEASE, f'{RELEASE}ledger_release = "2023.{number}"\n'))


def test_migrate_writes_the_attribute_every_revision_carries(legacy, dialect) -> None:
    carry_release(legacy, dialect)
    assert legacy.cli("baseline").code == 0
    outcome, written = migrate_memo(legacy, dialect)
    # The head's value, said, since it is a guess: the next release may be another.
    assert re.search(r'^ledger_release = "2023\.2"$', written.read_text(), re.M), (
        written.read_text()
    )
    assert f"{dialect}: ledger_release = '2023.2', as in the head revision" in outcome.out
    checked = legacy.cli("check", "--dialect", dialect)
    assert checked.code == 0, checked.out + checked.err


def test_the_configured_value_is_written(legacy, dialect) -> None:
    carry_release(legacy, dialect)
    legacy.edit(
        "pyproject.toml",
        "sqlite_transactional_ddl = true\n",
        'sqlite_transactional_ddl = true\nrevision_attributes = { ledger_release = "2024.1" }\n',
    )
    assert legacy.cli("baseline").code == 0
    outcome, written = migrate_memo(legacy, dialect)
    assert re.search(r'^ledger_release = "2024\.1"$', written.read_text(), re.M)
    assert "as in the head revision" not in outcome.out


def test_a_new_revision_without_it_is_a_problem(legacy, dialect) -> None:
    carry_release(legacy, dialect)
    assert legacy.cli("baseline").code == 0
    _outcome, written = migrate_memo(legacy, dialect)
    written.write_text(re.sub(r"^ledger_release = .*\n", "", written.read_text(), flags=re.M))
    checked = legacy.cli("check", "--dialect", dialect)
    assert checked.code == 1
    assert (
        f"{dialect}: {written.name}: sets no ledger_release, which every revision of the "
        "baseline sets (revision_attributes)"
    ) in problems(checked, dialect)


def test_a_bad_revision_attributes_table_is_one_line(legacy) -> None:
    legacy.edit(
        "pyproject.toml",
        "sqlite_transactional_ddl = true\n",
        'sqlite_transactional_ddl = true\nrevision_attributes = { revision = "x" }\n',
    )
    outcome = legacy.cli("check", "--dialect", "sqlite")
    assert outcome.code == 2
    assert outcome.err.startswith("error: [tool.contribkit] revision_attributes")
    assert len(outcome.err.strip().splitlines()) == 1
