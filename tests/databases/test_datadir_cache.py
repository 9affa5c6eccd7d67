"""The cache of fresh data folders that spares a throw-away server its initialisation after the
first start (PostgreSQL here; the MariaDB server's own tests cover it there)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from contribkit.databases import datadir_cache
from contribkit.databases.engines import create_engine
from contribkit.databases.postgresql.embedded import EmbeddedPostgres

# Each test starts several embedded servers of its own: once, in the PostgreSQL session, is enough.
pytestmark = pytest.mark.dialects("postgresql")


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "contribkit"


def entries(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def tables(server: EmbeddedPostgres) -> list[str]:
    engine = create_engine(server.url(), poolclass=sa.pool.NullPool)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def create_table(server: EmbeddedPostgres, name: str) -> None:
    engine = create_engine(server.url(), poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {name} (x INTEGER)"))
    engine.dispose()


def test_later_starts_copy_the_first_cluster_and_never_change_it(private_cache: Path) -> None:
    first = EmbeddedPostgres().start()
    try:
        assert first.template is None  # nothing cached yet: initdb ran
        [entry] = entries(private_cache)
        create_table(first, "from_first_server")
    finally:
        first.stop()
    cached = private_cache / entry / "data"
    before = tree_digest(cached)

    second = EmbeddedPostgres().start()
    try:
        assert second.template == cached
        assert tables(second) == []  # a fresh cluster, not the first server's data
        create_table(second, "from_second_server")
    finally:
        second.stop()
    assert tree_digest(cached) == before
    assert entries(private_cache) == [entry]


def test_a_damaged_cached_cluster_is_replaced_and_the_start_still_succeeds(
    private_cache: Path,
) -> None:
    EmbeddedPostgres().start().stop()
    [entry] = entries(private_cache)
    version_file = private_cache / entry / "data" / "PG_VERSION"
    good_version = version_file.read_text()
    version_file.write_text("9\n")  # the server refuses a cluster of another major version

    server = EmbeddedPostgres().start()
    try:
        assert server.template is None  # fell back to initdb
        assert tables(server) == []
    finally:
        server.stop()
    assert entries(private_cache) == [entry]  # published again by the fallback's initdb
    assert version_file.read_text() == good_version


def test_a_cache_folder_others_can_write_to_is_neither_used_nor_filled(
    private_cache: Path,
) -> None:
    EmbeddedPostgres().start().stop()
    [entry] = entries(private_cache)
    private_cache.chmod(0o777)  # anyone could have planted a cluster that runs their commands

    server = EmbeddedPostgres().start()
    try:
        assert server.template is None
    finally:
        server.stop()
    # Not refilled either: the entry removed below stays absent.
    (private_cache / entry).rename(private_cache.parent / "moved-away")
    EmbeddedPostgres().start().stop()
    assert entries(private_cache) == []


def test_two_first_starts_at_once_both_work_and_publish_one_cluster(
    private_cache: Path,
) -> None:
    servers = [EmbeddedPostgres().begin(), EmbeddedPostgres().begin()]  # both run initdb
    try:
        for server in servers:
            server.finish()
            assert server.template is None and tables(server) == []
    finally:
        for server in servers:
            server.stop()
    [entry] = entries(private_cache)
    assert not entry.count(".partial-")
    assert datadir_cache.find(entry, "global/pg_control") == private_cache / entry / "data"
