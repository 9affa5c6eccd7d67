"""The seeder fills every flowdesk table, so verification really checks that rows survive."""

from __future__ import annotations

from sqlalchemy.pool import NullPool

from contribkit.databases.engines import create_engine
from contribkit.workflows.migrations import seed
from flowdesk.server.database.orm_models import Base


def test_every_flowdesk_table_gets_rows(database_url: str) -> None:
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as connection:
        failures = seed.seed(connection, Base.metadata)
        counts = seed.row_counts(connection)
        violations = seed.foreign_key_violations(connection)
    engine.dispose()
    assert failures == {}
    assert counts == {name: seed.ROWS_PER_TABLE for name in Base.metadata.tables}
    assert violations == []


def test_a_projects_type_gets_values_its_own_conversion_accepts(dialect: str) -> None:
    """A UUID kept as CHAR(36) by a TypeDecorator that takes only UUIDs (as Prefect's does),
    and JSON that its type validates: the seeder offers what the conversion accepts."""
    import uuid

    import sqlalchemy as sa

    from contribkit.databases.throwaway import ephemeral_database

    class StrictUUID(sa.TypeDecorator):
        impl = sa.CHAR(36)
        cache_ok = True

        def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
            return None if value is None else str(uuid.UUID(str(value)))

    class Settings(sa.TypeDecorator):
        impl = sa.JSON
        cache_ok = True

        def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
            if not isinstance(value, dict):
                raise TypeError("settings are a mapping")
            return value

    metadata = sa.MetaData()
    sa.Table(
        "run",
        metadata,
        sa.Column("id", StrictUUID, primary_key=True),
        sa.Column("settings", Settings, nullable=False),
    )
    with ephemeral_database(dialect) as url:
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                metadata.create_all(connection)
                connection.commit()
                failures = seed.seed(connection, metadata)
                counts = seed.row_counts(connection)
        finally:
            engine.dispose()
    assert failures == {}
    assert counts == {"run": seed.ROWS_PER_TABLE}


def _seeded(url: str, metadata, **options):  # type: ignore[no-untyped-def]
    """Create ``metadata``'s tables at ``url``, seed them; (failures, rows per table as read
    back with plain SQL)."""
    import sqlalchemy as sa

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            metadata.create_all(connection)
            connection.commit()
            failures = seed.seed(connection, metadata, **options)
            rows = {
                name: connection.execute(sa.text(f"SELECT * FROM {name}")).mappings().all()
                for name in metadata.tables
            }
    finally:
        engine.dispose()
    return failures, rows


def test_a_decorator_loading_another_type_per_dialect_gets_values_that_type_accepts(
    dialect: str,
) -> None:
    """Prefect's UUID: an impl of ``Uuid``, CHAR(36) or PostgreSQL's UUID loaded per dialect,
    and a bind conversion that returns strings. The conversion SQLAlchemy runs is the loaded
    type's: asked of the bare decorator (``Uuid``'s after the project's) it refuses even a real
    UUID."""
    import uuid

    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    from contribkit.databases.throwaway import ephemeral_database

    class LoadedUUID(sa.TypeDecorator):
        impl = sa.Uuid()
        cache_ok = True

        def load_dialect_impl(self, dialect):  # type: ignore[no-untyped-def]
            if dialect.name == "postgresql":
                return dialect.type_descriptor(postgresql.UUID())
            return dialect.type_descriptor(sa.CHAR(36))

        def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
            if value is None or isinstance(value, uuid.UUID):
                return None if value is None else str(value)
            return str(uuid.UUID(value))

    metadata = sa.MetaData()
    sa.Table(
        "run",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("flow_id", LoadedUUID(), nullable=False),
    )
    with ephemeral_database(dialect) as url:
        failures, rows = _seeded(url, metadata)
    assert failures == {}
    assert [str(uuid.UUID(str(row["flow_id"]))) for row in rows["run"]] == [
        str(row["flow_id"]) for row in rows["run"]
    ]
    assert len(rows["run"]) == seed.ROWS_PER_TABLE


def test_json_validated_by_a_pydantic_union_is_grown_from_the_validators_errors(
    dialect: str,
) -> None:
    """A NOT NULL JSON column whose type validates through a pydantic union of models: the
    refusals name the missing fields and kinds, and the seeder fills them in (no rows given)."""
    import datetime as dt
    from typing import Literal

    import pydantic
    import sqlalchemy as sa

    from contribkit.databases.throwaway import ephemeral_database

    class Interval(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")
        every: dt.timedelta
        anchor: dt.datetime

    class Cron(pydantic.BaseModel):
        kind: Literal["cron", "rrule"]
        expression: str
        owners: list[str]

    adapter = pydantic.TypeAdapter(Interval | Cron)

    class Schedule(sa.TypeDecorator):
        impl = sa.JSON
        cache_ok = True

        def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
            return adapter.dump_python(adapter.validate_python(value), mode="json")

    metadata = sa.MetaData()
    sa.Table(
        "schedule",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("spec", Schedule, nullable=False),
        sa.Column("backup", Schedule, nullable=True),
    )
    with ephemeral_database(dialect) as url:
        failures, rows = _seeded(url, metadata)
    assert failures == {}
    assert len(rows["schedule"]) == seed.ROWS_PER_TABLE
    for row in rows["schedule"]:
        spec = (
            row["spec"] if isinstance(row["spec"], dict) else __import__("json").loads(row["spec"])
        )
        adapter.validate_python(spec)  # what the database holds is what the model accepts


def test_two_references_to_one_parent_get_different_rows_and_a_refused_default_is_filled(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """A "no self-reference" CHECK between two keys to one table, and a server default SQLite
    stores but cannot evaluate (a PostgreSQL function written into its history)."""
    import sqlalchemy as sa

    metadata = sa.MetaData()
    sa.Table(
        "document",
        metadata,
        sa.Column(
            "id", sa.String(36), primary_key=True, server_default=sa.text("(GEN_RANDOM_UUID())")
        ),
    )
    sa.Table(
        "reference",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.ForeignKey("document.id"), nullable=False),
        sa.Column("child_id", sa.ForeignKey("document.id"), nullable=False),
        sa.CheckConstraint("parent_id != child_id", name="no_self_reference"),
    )
    failures, rows = _seeded(f"sqlite:///{tmp_path / 'db.sqlite'}", metadata)
    assert failures == {}
    assert len(rows["document"]) == len(rows["reference"]) == seed.ROWS_PER_TABLE
    assert all(row["parent_id"] != row["child_id"] for row in rows["reference"])


def test_rows_the_seeder_cannot_make_come_from_the_projects_factories(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A rule only the project knows (a value_error): without a factory the table is reported,
    with one its values are used and the seeder makes the rest; a nullable column of such a
    type is left NULL."""
    import sqlalchemy as sa

    class Resource(sa.TypeDecorator):
        impl = sa.String(40)
        cache_ok = True

        def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
            if not (isinstance(value, str) and value.startswith("res:")):
                raise ValueError("a resource id starts with 'res:'")
            return value

    metadata = sa.MetaData()
    sa.Table(
        "event",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("resource", Resource, nullable=False),
        sa.Column("related", Resource, nullable=True),
        sa.Column("name", sa.String(20), nullable=False),
    )
    failures, rows = _seeded(f"sqlite:///{tmp_path / 'without.sqlite'}", metadata)
    assert list(failures) == ["event"] and "res:" in failures["event"]
    assert rows["event"] == []

    factories = {"event": lambda n: {"resource": f"res:{n}"}}
    failures, rows = _seeded(f"sqlite:///{tmp_path / 'with.sqlite'}", metadata, factories=factories)
    assert failures == {}
    assert [row["resource"] for row in rows["event"]] == ["res:1", "res:2"]
    assert [row["related"] for row in rows["event"]] == [None, None]
    assert all(row["name"] for row in rows["event"])

    broken = {"event": lambda n: 1 / 0}
    failures, _ = _seeded(f"sqlite:///{tmp_path / 'broken.sqlite'}", metadata, factories=broken)
    assert failures["event"].startswith("seed_rows for event failed: ZeroDivisionError")


def test_rows_honour_the_checks_the_seeder_can_read(dialect: str) -> None:
    """MLflow's ``lifecycle_stage IN ('active', 'deleted')`` (PostgreSQL keeps it as
    ``= ANY (ARRAY[…])``), bounds on numbers, and a composite integer key, whose columns the
    database does not number."""
    import sqlalchemy as sa

    from contribkit.databases.throwaway import ephemeral_database

    metadata = sa.MetaData()
    sa.Table(
        "experiment",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("weight", sa.Integer, nullable=False),
        sa.CheckConstraint("stage IN ('active', 'deleted')", name="ck_stage"),
        sa.CheckConstraint("priority > 10", name="ck_priority"),
        sa.CheckConstraint("weight >= 3", name="ck_weight"),
    )
    sa.Table(
        "model_version",
        metadata,
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
    )
    with ephemeral_database(dialect) as url:
        failures, rows = _seeded(url, metadata)
    assert failures == {}
    assert {row["stage"] for row in rows["experiment"]} <= {"active", "deleted"}
    assert all(row["priority"] > 10 and row["weight"] >= 3 for row in rows["experiment"])
    assert len(rows["model_version"]) == seed.ROWS_PER_TABLE
