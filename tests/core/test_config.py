"""[tool.contribkit] parsing and dialect names."""

from __future__ import annotations

from pathlib import Path

import pytest

from contribkit.core.config import (
    KEYS,
    config_from_table,
    load_config,
    normalize_dialect,
)
from contribkit.core.errors import UsageError


def test_postgres_is_an_alias_of_postgresql() -> None:
    assert normalize_dialect("postgres") == "postgresql"
    assert normalize_dialect(" SQLite ") == "sqlite"


@pytest.mark.parametrize("name", ["oracle", "mssql", ""])
def test_unknown_dialect_is_one_sentence(name: str) -> None:
    with pytest.raises(
        UsageError,
        match=r"^unknown dialect .*: choose one of sqlite, postgresql, mysql "
        r"\(or 'postgres', 'mariadb'\)\.$",
    ):
        normalize_dialect(name)


def test_mariadb_is_mysql() -> None:
    assert normalize_dialect("MariaDB") == "mysql"
    assert normalize_dialect("mysql", ("sqlite", "mysql")) == "mysql"
    with pytest.raises(UsageError, match=r"choose one of sqlite, postgresql \(or 'postgres'\)\.$"):
        normalize_dialect("oracle", ("sqlite", "postgresql"))


def test_dialect_not_configured_names_the_config(tmp_path: Path) -> None:
    config = config_from_table({"dialects": ["sqlite"]}, tmp_path)
    with pytest.raises(UsageError, match="not configured for this project"):
        config.dialect("postgres")
    assert config.select_dialects(None) == ("sqlite",)
    assert config.select_dialects("all") == ("sqlite",)


def test_paths_are_resolved_against_the_project_root(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.contribkit]\nmigrations = "db/migrations"\ndialects = ["postgres", "sqlite"]\n'
    )
    (tmp_path / "sub").mkdir()
    config = load_config(tmp_path / "sub")
    assert config.root == tmp_path.resolve()
    assert config.migrations == (tmp_path / "db" / "migrations").resolve()
    assert config.dialects == ("postgresql", "sqlite")
    assert config.notes == (tmp_path / "MIGRATION-NOTES.md").resolve()


def test_bad_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="dialects must be a non-empty list"):
        config_from_table({"dialects": []}, tmp_path)
    with pytest.raises(UsageError, match="migrations must be a path string"):
        config_from_table({"migrations": 3}, tmp_path)


def test_an_unknown_key_is_one_line_naming_the_closest_known_one(tmp_path) -> None:
    with pytest.raises(UsageError) as raised:
        config_from_table({"migratons": "db/migrations", "api_port": 4200}, tmp_path)
    message = raised.value.message
    assert "no key 'migratons' (did you mean 'migrations'?)" in message
    assert "\n" not in message
    # Every documented key is known: docs/configuration.md's block lists them all.
    readme = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    block = readme.split("```toml")[1].split("```")[0]
    documented = {
        line.lstrip("# ").split(" = ")[0]: line.rsplit("  # ", 1)[-1]
        for line in block.splitlines()
        if " = " in line
    }
    assert documented == {key.name: key.doc for key in KEYS}


@pytest.mark.parametrize(
    ("key", "value", "wanted"),
    [
        ("api_port", "4200", "must be a port number from 1 to 65535"),
        ("worker", "flowdesk worker start", "must be a list of strings"),
        ("static", 3, "must be a path string"),
        ("sqlite_transactional_ddl", "yes", "must be true or false"),
        ("health_path", 200, "must be a string"),
        ("layout", "both", "must be 'per-dialect' or 'shared', not 'both'"),
        ("isolation_level", {"postgresql": "autocommit"}, "must be a table of isolation levels"),
        ("isolation_level", "AUTOCOMMIT", "must be a table of isolation levels"),
    ],
)
def test_a_key_of_the_wrong_type_is_one_line(tmp_path, key, value, wanted) -> None:
    with pytest.raises(UsageError) as raised:
        config_from_table({key: value}, tmp_path)
    assert raised.value.message.startswith(f"[tool.contribkit] {key} {wanted}")


def test_every_key_is_a_typed_field_with_its_default(tmp_path) -> None:
    config = config_from_table({}, tmp_path)
    assert config.api_port == 8000 and config.watch == ("src",) and config.worker is None
    assert config.notes == tmp_path.resolve() / "MIGRATION-NOTES.md"
    with pytest.raises(UsageError, match=r"no app configured: set \[tool.contribkit\] app = "):
        config.require("app")


def test_an_empty_string_leaves_the_default(tmp_path) -> None:
    config = config_from_table({"models": "", "database_url_env": ""}, tmp_path)
    assert config.database_url_env == "DATABASE_URL"
    with pytest.raises(UsageError, match="no models configured"):
        config.require_models()


def test_seed_rows_must_name_a_mapping_of_tables_to_factories(tmp_path: Path) -> None:
    """A one-line error for a seed_rows that is not table → callable; a good one loads."""
    from contribkit.core.errors import UsageError
    from contribkit.core.importing import load_row_factories

    (tmp_path / "rowsmod.py").write_text(
        "GOOD = {'event': lambda n: {'resource': f'res:{n}'}}\nBAD = {'event': 'res:1'}\n"
    )
    assert load_row_factories("rowsmod:GOOD", tmp_path)["event"](2) == {"resource": "res:2"}
    with pytest.raises(UsageError, match=r"seed_rows 'rowsmod:BAD' is not a mapping") as raised:
        load_row_factories("rowsmod:BAD", tmp_path)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("content", "wanted"),
    [
        (
            b'[tool]\ncontribkit = "x"\n',
            "tool.contribkit must be a table ([tool.contribkit]), not 'x'",
        ),
        (b"tool = 1\n", "tool must be a table"),
        (b'[project]\nname = "caf\xe9"\n', "is not UTF-8 (line 2): save it as UTF-8"),
        (b"[tool.contribkit\n", "is not valid TOML"),
    ],
    ids=["contribkit-a-string", "tool-a-number", "latin-1", "broken"],
)
def test_a_pyproject_of_the_wrong_shape_is_one_line(tmp_path, content, wanted) -> None:
    (tmp_path / "pyproject.toml").write_bytes(content)
    with pytest.raises(UsageError) as raised:
        load_config(tmp_path)
    assert wanted in raised.value.message
    assert "\n" not in raised.value.message
