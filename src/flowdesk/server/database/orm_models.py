"""flowdesk's tables, in SQLAlchemy 2 typed style.

Portable choices, made deliberately:

* ``state`` is a *non-native* enum (VARCHAR + CHECK constraint) on every dialect. A native
  PostgreSQL enum cannot drop a value, adding one is a separate non-transactional ``ALTER TYPE``
  that autogenerate does not detect, and the two dialects' migrations would diverge for every new
  state. A CHECK constraint changes with an ordinary, reversible migration.
* ``parameters`` is JSON everywhere and JSONB on PostgreSQL, which stores it parsed (smaller,
  faster to query, indexable with GIN) while the Python side stays the same.
* ids are ``Uuid``: native ``UUID`` on PostgreSQL, ``CHAR(32)`` on SQLite and MySQL, generated
  in Python so a client can know a run's id before the INSERT commits.
* timestamps are timezone-aware; SQLite stores them as text, PostgreSQL as ``timestamptz``,
  MySQL as ``DATETIME(6)``; the ORM reads and writes them as aware UTC datetimes on all
  (``UtcTimestamp``).
* a flow's name is compared byte for byte on every dialect (``utf8mb4_bin`` on MySQL).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from flowdesk.server.database.timestamps import UtcTimestamp

# Names for every constraint and index, so SQLite batch migrations can find them again and both
# dialects' migrations name the same objects the same way.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s__%(column_0_N_name)s",
    "uq": "uq_%(table_name)s__%(column_0_N_name)s",
    "ck": "ck_%(table_name)s__%(constraint_name)s",
    "fk": "fk_%(table_name)s__%(column_0_name)s__%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONValue = sa.JSON().with_variant(JSONB(), "postgresql")
#: Case-sensitive and in byte order everywhere: MySQL's default collation would make "ETL" and
#: "etl" one name (the unique constraint) and sort by language.
FlowName = sa.String(200).with_variant(mysql.VARCHAR(200, collation="utf8mb4_bin"), "mysql")
Timestamp = UtcTimestamp()


class StateType(str, enum.Enum):
    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    created: Mapped[datetime] = mapped_column(Timestamp, server_default=sa.func.now())
    updated: Mapped[datetime] = mapped_column(
        Timestamp, server_default=sa.func.now(), onupdate=sa.func.now()
    )


class Flow(TimestampMixin, Base):
    __tablename__ = "flow"

    name: Mapped[str] = mapped_column(FlowName, unique=True)
    runs: Mapped[list[FlowRun]] = relationship(back_populates="flow", passive_deletes=True)


class FlowRun(TimestampMixin, Base):
    __tablename__ = "flow_run"

    flow_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("flow.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(sa.String(200))
    state: Mapped[StateType] = mapped_column(
        sa.Enum(StateType, name="state_type", native_enum=False, create_constraint=True, length=20),
        default=StateType.SCHEDULED,
        server_default=StateType.SCHEDULED.value,
        index=True,
    )
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    expected_start_time: Mapped[datetime] = mapped_column(Timestamp, index=True)
    start_time: Mapped[datetime | None] = mapped_column(Timestamp)
    end_time: Mapped[datetime | None] = mapped_column(Timestamp)
    worker: Mapped[str | None] = mapped_column(sa.String(200))

    flow: Mapped[Flow] = relationship(back_populates="runs")
    task_runs: Mapped[list[TaskRun]] = relationship(
        back_populates="flow_run", passive_deletes=True, order_by="TaskRun.created"
    )


class TaskRun(TimestampMixin, Base):
    __tablename__ = "task_run"

    flow_run_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("flow_run.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    state: Mapped[StateType] = mapped_column(
        sa.Enum(StateType, name="state_type", native_enum=False, create_constraint=True, length=20),
        default=StateType.PENDING,
        server_default=StateType.PENDING.value,
    )
    start_time: Mapped[datetime | None] = mapped_column(Timestamp)
    end_time: Mapped[datetime | None] = mapped_column(Timestamp)

    flow_run: Mapped[FlowRun] = relationship(back_populates="task_runs")


class Log(Base):
    __tablename__ = "log"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    flow_run_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("flow_run.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    message: Mapped[str] = mapped_column(sa.Text)
    timestamp: Mapped[datetime] = mapped_column(Timestamp, server_default=sa.func.now(), index=True)
