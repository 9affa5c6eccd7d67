"""Request and response bodies of the HTTP API (docs/api.md), as pydantic models."""

from __future__ import annotations

import json
import math
import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AliasPath,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    create_model,
)

from flowdesk.server.database.orm_models import StateType
from flowdesk.server.database.timestamps import as_utc

#: A datetime sent by a client: it must carry an offset (docs/api.md), and is stored in UTC.
AwareUtcDatetime = Annotated[AwareDatetime, AfterValidator(as_utc)]


def storable_text(value: str) -> str:
    """Refuse what the databases cannot store, so it is a 422 rather than a driver error.

    PostgreSQL rejects NUL in text and JSONB; neither driver can encode a lone surrogate, which
    JSON's ``\\ud800`` escapes can produce.
    """
    if "\x00" in value:
        raise ValueError("text must not contain NUL (\\u0000) characters")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("text must not contain unpaired surrogates") from None
    return value


#: Far deeper than real parameters, and the deepest MariaDB's JSON check accepts (its JSON_VALID
#: refuses 32 levels and more); pydantic would refuse to serialise a response at about 250.
MAX_JSON_DEPTH = 31
#: Parameters are returned with the run in every listing: a run's may be at most this big (as
#: compact JSON), so that no single run can make every page that includes it megabytes long.
MAX_PARAMETERS_BYTES = 64 * 1024
#: Logs per POST: a batch is written in one transaction, which holds SQLite's only write lock.
MAX_LOG_BATCH = 1000
#: One log message.
MAX_LOG_MESSAGE_CHARS = 32 * 1024


def storable_json(value: dict[str, Any]) -> dict[str, Any]:
    """Refuse NaN and ±Infinity (PostgreSQL's JSONB has no such numbers), unstorable text, and
    nesting deeper than :data:`MAX_JSON_DEPTH`.

    Walked with a stack rather than recursion, since nesting is as deep as the client sends.
    """
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            storable_text(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite: NaN and Infinity are not JSON")
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"parameters must not nest more than {MAX_JSON_DEPTH} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_PARAMETERS_BYTES:
        raise ValueError(
            f"parameters must be at most {MAX_PARAMETERS_BYTES} bytes as JSON, not {size}"
        )
    return value


Text = Annotated[str, AfterValidator(storable_text)]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class FlowCreate(BaseModel):
    name: Text = Field(min_length=1, max_length=200)


class Flow(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created: datetime
    updated: datetime


class FlowRunCreate(BaseModel):
    flow_id: uuid.UUID
    name: Text | None = Field(default=None, max_length=200)
    parameters: Annotated[dict[str, Any], AfterValidator(storable_json)] = Field(
        default_factory=dict
    )
    expected_start_time: AwareUtcDatetime | None = Field(
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
    expected_start_time: datetime
    start_time: datetime | None
    end_time: datetime | None
    worker: str | None
    created: datetime
    updated: datetime


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
    start_time: datetime | None
    end_time: datetime | None
    created: datetime


class LogCreate(BaseModel):
    level: int = Field(ge=0, le=32767, description="A Python logging level, e.g. 20 for INFO.")
    message: Text = Field(max_length=MAX_LOG_MESSAGE_CHARS)
    timestamp: AwareUtcDatetime | None = Field(default=None, description="Default: when received.")


#: The body of ``POST /flow_runs/{id}/logs``.
LogBatch = Annotated[list[LogCreate], Field(max_length=MAX_LOG_BATCH)]


class LogsCreated(BaseModel):
    created: int


class Log(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    flow_run_id: uuid.UUID
    level: int
    message: str
    timestamp: datetime


class Health(BaseModel):
    status: str
    database: str
