"""Request and response bodies of the HTTP API (docs/api.md), as pydantic models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, AliasPath, BaseModel, ConfigDict, Field, create_model

from flowdesk.server.database.orm_models import StateType
from flowdesk.server.database.timestamps import as_utc

#: A datetime that is always aware and in UTC: naive input is read as UTC, and SQLite's naive
#: values come back as the UTC they were stored as.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class FlowCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class Flow(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created: UtcDatetime
    updated: UtcDatetime


class FlowRunCreate(BaseModel):
    flow_id: uuid.UUID
    name: str | None = Field(default=None, max_length=200)
    parameters: dict[str, Any] = Field(default_factory=dict)
    expected_start_time: UtcDatetime | None = Field(
        default=None, description="When the run is due; default: now."
    )


class FlowRun(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    flow_id: uuid.UUID
    flow_name: str = Field(validation_alias=AliasPath("flow", "name"))
    name: str | None
    state: StateType
    parameters: dict[str, Any]
    expected_start_time: UtcDatetime | None
    start_time: UtcDatetime | None
    end_time: UtcDatetime | None
    worker: str | None
    created: UtcDatetime
    updated: UtcDatetime


#: ``{"SCHEDULED": n, …}`` with every state required, generated so it follows :class:`StateType`.
StateCounts = create_model("StateCounts", **{state.value: (int, ...) for state in StateType})


class SetState(BaseModel):
    state: StateType


class TaskRun(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    flow_run_id: uuid.UUID
    name: str
    state: StateType
    start_time: UtcDatetime | None
    end_time: UtcDatetime | None
    created: UtcDatetime


class LogCreate(BaseModel):
    level: int = Field(ge=0, le=32767, description="A Python logging level, e.g. 20 for INFO.")
    message: str
    timestamp: UtcDatetime | None = Field(default=None, description="Default: when received.")


class LogsCreated(BaseModel):
    created: int


class Log(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    flow_run_id: uuid.UUID
    level: int
    message: str
    timestamp: UtcDatetime


class Health(BaseModel):
    status: str
    database: str
