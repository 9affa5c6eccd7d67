"""Saved states that are crafted, swapped, edited or damaged (contribkit.workflows.migrations.
statestore): each is one line and a replay, on real SQLite, PostgreSQL and MariaDB; none runs
code, none passes a broken history."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_check_cache import REVISIONS, check, reused, revision

from contribkit.databases import throwaway
from contribkit.databases.postgresql import dump as postgresql_dump
from contribkit.workflows.migrations import statestore

REFUSED = "a state in the cache could not be used"


def states(project, dialect: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """The saved states of ``dialect``: key → description."""
    folder = project.root / ".contribkit" / "cache" / dialect
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}


def data_file(project, dialect: str, key: str) -> Path:  # type: ignore[no-untyped-def]
    folder = project.root / ".contribkit" / "cache" / dialect
    return next(p for p in folder.glob(f"{key}.*") if p.suffix != ".json")


def head_key(project, dialect: str, besides: frozenset[str] = frozenset()) -> str:  # type: ignore[no-untyped-def]
    """The state check saved at the head (the one a re-check restores), ``besides`` those."""
    head = re.search(r"revision = '(\w+)'", revision(project, dialect, REVISIONS).read_text())
    assert head is not None
    found = [
        key
        for key, meta in states(project, dialect).items()
        if meta["heads"] == [head[1]] and key not in besides
    ]
    assert len(found) == 1, states(project, dialect)
    return found[0]


def rewrite(dialect: str, path: Path, statements: list[str]) -> None:
    """Run ``statements`` on the state in ``path`` as its superuser: restored into a database
    of its own, changed, saved back (the description is left as it was)."""
    formats = statestore._FORMATS[dialect]
    with throwaway.ephemeral_database(dialect) as url:
        formats.restore(path, url)
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
        engine.dispose()
        if dialect == "postgresql":  # contribkit's own dump refuses code: crafted, it is raw
            dsn = url.replace("postgresql+psycopg://", "postgresql://")
            argv = ["--format=custom", "--no-owner", "--file", str(path), dsn]
            subprocess.run([postgresql_dump.tool("pg_dump"), *argv], check=True)
        else:
            formats.dump(url, path)


def writable_by_anyone(tmp_path: Path) -> Path:
    """A folder that a server running as another user can write to (tmp_path's parents are
    private)."""
    folder = Path(tempfile.mkdtemp(prefix="ck-marker-"))
    folder.chmod(0o777)
    (tmp_path / "marker-folder").symlink_to(folder)
    return folder


def redescribe(project, dialect: str, key: str) -> None:  # type: ignore[no-untyped-def]
    """Give the description the digest of the state's file as it now is (a coherent forgery)."""
    meta_path = project.root / ".contribkit" / "cache" / dialect / f"{key}.json"
    meta = json.loads(meta_path.read_text())
    meta["digest"] = statestore._sha256(data_file(project, dialect, key))
    meta_path.write_text(json.dumps(meta))


def test_a_state_copied_over_another_key_is_refused(grown, dialect) -> None:
    """The head state of a good history, copied over the key of a broken one, passed it."""
    assert check(grown, dialect)[0] == 0
    good = head_key(grown, dialect)
    saved = {
        p.suffix: p.read_bytes() for p in data_file(grown, dialect, good).parent.glob(f"{good}.*")
    }
    # Break the newest revision's downgrade (the round trip now fails), and check it once.
    newest = revision(grown, dialect, REVISIONS)
    column = f'"c{REVISIONS}"'
    text = re.sub(rf"(batch_op|op)\.drop_column\([^)]*{column}\)", "pass", newest.read_text())
    newest.write_text(text)
    code, out = check(grown, dialect)
    assert code == 1 and f"! {dialect}: {newest.name}: " in out, out
    broken = head_key(grown, dialect, besides=frozenset({good}))
    for suffix, content in saved.items():
        (data_file(grown, dialect, broken).parent / f"{broken}{suffix}").write_bytes(content)

    code, out = check(grown, dialect)
    assert code == 1 and f"! {dialect}: {newest.name}: " in out, out
    assert f"{dialect}: {REFUSED} (its description is not one contribkit wrote for it)" in out


def test_an_edited_state_is_refused(grown, dialect) -> None:
    """A version row edited by hand: refused by the file's digest, and by the version rows
    once the description is forged to match."""
    assert check(grown, dialect)[0] == 0
    key = head_key(grown, dialect)
    keep = data_file(grown, dialect, key).read_bytes(), states(grown, dialect)[key]
    rewrite(
        dialect, data_file(grown, dialect, key), ["UPDATE alembic_version SET version_num = 'x1'"]
    )
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS - 1), out
    assert f"{REFUSED} (its database file is not the one saved)" in out

    data_file(grown, dialect, key).write_bytes(keep[0])
    (grown.root / ".contribkit" / "cache" / dialect / f"{key}.json").write_text(json.dumps(keep[1]))
    rewrite(
        dialect, data_file(grown, dialect, key), ["UPDATE alembic_version SET version_num = 'x1'"]
    )
    redescribe(grown, dialect, key)
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS - 1), out
    assert f"{REFUSED} (it is at x1, not at " in out
    # Replaced by a good one: the next run restores it.
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS), out


def test_problems_saved_for_other_revisions_are_refused(grown, dialect) -> None:
    assert check(grown, dialect)[0] == 0
    key = head_key(grown, dialect)
    meta_path = grown.root / ".contribkit" / "cache" / dialect / f"{key}.json"
    meta = json.loads(meta_path.read_text())
    meta["problems"] = ["elsewhere.py: something"]
    meta_path.write_text(json.dumps(meta))
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS - 1), out
    assert f"{REFUSED} (a problem it lists names no revision it covers: 'elsewhere.py" in out


DAMAGE: dict[str, list[Callable[[Path], object]]] = {
    "sqlite": [lambda p: p.write_bytes(b""), lambda p: p.write_bytes(p.read_bytes()[:4096])],
    "mysql": [
        lambda p: p.write_text('{"a": 1}'),
        lambda p: p.write_text("[]"),
        lambda p: p.write_text('[{"name": "t0", "rows": []}]'),
        lambda p: p.write_text('[{"name": "t0", "ddl": 1, "rows": []}]'),
        lambda p: p.write_text("not json"),
    ],
    "postgresql": [lambda p: p.write_bytes(b""), lambda p: p.write_bytes(p.read_bytes()[:200])],
}


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(damage, marks=pytest.mark.dialects(kind), id=f"{kind}-{n}")
        for kind, damages in DAMAGE.items()
        for n, damage in enumerate(damages)
    ],
)
def test_a_damaged_state_is_one_line_and_a_replay(grown, dialect, damage) -> None:
    """Whatever the damage (and a forged digest to match it), never a crash or false drift;
    the replay saves a good state in its place."""
    assert check(grown, dialect)[0] == 0
    key = head_key(grown, dialect)
    damage(data_file(grown, dialect, key))
    redescribe(grown, dialect, key)
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS - 1), out
    assert REFUSED in out and "drift" not in out.replace("no drift", ""), out
    assert out.count(REFUSED) == 1, out
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS), out


def test_a_damaged_description_is_one_line_and_a_replay(grown, dialect) -> None:
    assert check(grown, dialect)[0] == 0
    key = head_key(grown, dialect)
    (grown.root / ".contribkit" / "cache" / dialect / f"{key}.json").write_text('{"problems": 1}')
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS - 1), out
    assert f"{REFUSED} (its description is not one contribkit wrote for it)" in out


@pytest.mark.dialects("postgresql")
def test_a_postgresql_state_that_would_run_code_runs_nothing(grown, dialect, tmp_path) -> None:
    """A function that runs a program, called by a CHECK when a row goes in and by a
    materialized view when the restore fills it: neither runs, and the state is refused."""
    assert check(grown, dialect)[0] == 0
    key = head_key(grown, dialect)
    marker = writable_by_anyone(tmp_path) / "ran"  # the server runs as a user of its own
    armed = f"""
        CREATE FUNCTION evil() RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN
            IF to_regclass('public.armed') IS NOT NULL THEN
                COPY (SELECT 1) TO PROGRAM 'touch {marker}';
            END IF;
            RETURN true;
        END $$"""
    rewrite(
        dialect,
        data_file(grown, dialect, key),
        [
            armed,
            "CREATE MATERIALIZED VIEW filled AS SELECT evil() AS ok",
            "ALTER TABLE t0 ADD CONSTRAINT runs CHECK (evil())",
            "CREATE TABLE armed (id integer)",
        ],
    )
    redescribe(grown, dialect, key)
    code, out = check(grown, dialect)
    assert not marker.exists()
    assert (code, reused(out, dialect)) == (0, REVISIONS - 1), out
    assert REFUSED in out, out


@pytest.mark.dialects("postgresql")
def test_a_postgresql_state_whose_checks_call_code_is_refused(grown, dialect, tmp_path) -> None:
    """Restored as it stands, the CHECK would run the function as the superuser that seeds."""
    assert check(grown, dialect)[0] == 0
    key = head_key(grown, dialect)
    rewrite(
        dialect,
        data_file(grown, dialect, key),
        [
            "CREATE FUNCTION f() RETURNS boolean LANGUAGE sql AS 'SELECT true'",
            "ALTER TABLE t0 ADD CONSTRAINT runs CHECK (f())",
        ],
    )
    redescribe(grown, dialect, key)
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS - 1), out
    assert f"{REFUSED} (UnsafeState: the state holds a function or procedure (f()))" in out


@pytest.mark.dialects("postgresql")
def test_a_history_that_makes_a_trigger_saves_no_state_it_would_refuse(grown, dialect) -> None:
    """A state may hold no code, so a database with a trigger function of its own (Langflow's
    history makes some) is not saved: saving it only for the next run to refuse it cost a dump
    and a restore, and two lines, on every run."""
    head = revision(grown, dialect, REVISIONS)
    text = head.read_text()
    text = text.replace(
        "def upgrade() -> None:\n",
        "def upgrade() -> None:\n"
        '    op.execute("CREATE FUNCTION touched() RETURNS trigger LANGUAGE plpgsql '
        "AS 'BEGIN RETURN NEW; END'\")\n",
    ).replace(
        "def downgrade() -> None:\n",
        "def downgrade() -> None:\n    op.execute('DROP FUNCTION touched()')\n",
    )
    head.write_text(text)
    code, out = check(grown, dialect)
    assert code == 0, out
    assert out.count("not kept in the cache") == 1, out
    assert "a function or procedure (touched())" in out
    assert all(meta["heads"] for meta in states(grown, dialect).values())
    code, out = check(grown, dialect)
    assert code == 0, out
    assert REFUSED not in out
    assert reused(out, dialect) == REVISIONS - 1, out  # the state before the head's trigger


CRAFTED_DDL = [
    "SELECT '<?php' INTO OUTFILE '{marker}'",
    "CREATE TABLE `t0` (`id` int) ENGINE=InnoDB; SELECT 1 INTO OUTFILE '{marker}'",
    "CREATE TABLE `t0` (`id` int) SELECT 1 AS x",
    "CREATE TABLE `t0` (`id` int) ENGINE=InnoDB DATA DIRECTORY='{marker}'",
    "CREATE TABLE `t0` (`id` int) /*!99999 ENGINE=InnoDB */",
]


@pytest.mark.dialects("mysql")
@pytest.mark.parametrize("ddl", CRAFTED_DDL)
def test_a_mysql_state_that_is_not_a_table_definition_runs_nothing(
    grown, dialect, tmp_path, ddl
) -> None:
    assert check(grown, dialect)[0] == 0
    key = head_key(grown, dialect)
    marker = tmp_path / "written"
    path = data_file(grown, dialect, key)
    tables = json.loads(path.read_text())
    t0 = next(t for t in tables if t["name"] == "t0")
    t0["ddl"], t0["rows"] = ddl.format(marker=marker), []
    path.write_text(json.dumps(tables))
    redescribe(grown, dialect, key)
    code, out = check(grown, dialect)
    assert (code, reused(out, dialect)) == (0, REVISIONS - 1), out
    assert f"{REFUSED} (ValueError: " in out, out
    assert not marker.exists()


@pytest.mark.dialects("mysql")
def test_the_mariadb_server_reads_and_writes_no_file_outside_its_folder(tmp_path) -> None:
    """What validation does not catch still cannot reach the machine: INTO OUTFILE is confined."""
    with throwaway.ephemeral_database("mysql") as url:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match=r"secure.file.priv"):
            conn.exec_driver_sql(f"SELECT 1 INTO OUTFILE '{tmp_path / 'x'}'")
        engine.dispose()
    assert not (tmp_path / "x").exists()
