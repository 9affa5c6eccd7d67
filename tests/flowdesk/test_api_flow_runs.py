"""``/api/flow_runs``: creation, filters, counts, task runs and logs."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from process_support import LOOPBACK
from pydantic import TypeAdapter

from flowdesk.server.api import create_app
from flowdesk.server.api.schemas import MAX_JSON_DEPTH
from flowdesk.server.database.orm_models import StateType, TaskRun
from flowdesk.server.database.timestamps import utcnow

parse_time = TypeAdapter(datetime).validate_python
FLOW_RUN_FIELDS = {
    "id", "flow_id", "flow_name", "name", "state", "parameters", "expected_start_time",
    "start_time", "end_time", "worker", "created", "updated",
}  # fmt: skip
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def flow_id(client) -> str:
    return client.post("/api/flows", json={"name": "etl"}).json()["id"]


@pytest.fixture(scope="module")
def shared_run(shared_client) -> dict:
    """A run in the module's shared database, for requests that must be rejected."""
    flow = shared_client.post("/api/flows", json={"name": "shared"}).json()
    return new_run(shared_client, flow["id"])


def new_run(client, flow_id: str, **fields) -> dict:
    response = client.post("/api/flow_runs", json={"flow_id": flow_id, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_new_run_is_scheduled_now_with_no_parameters(client, flow_id) -> None:
    before = utcnow()
    run = new_run(client, flow_id)
    assert set(run) == FLOW_RUN_FIELDS
    assert (run["state"], run["parameters"], run["flow_name"]) == ("SCHEDULED", {}, "etl")
    assert run["start_time"] is run["end_time"] is run["worker"] is run["name"] is None
    assert before <= parse_time(run["expected_start_time"]) <= utcnow()
    assert client.get(f"/api/flow_runs/{run['id']}").json() == run


def test_a_run_keeps_name_parameters_and_start_time_in_utc(client, flow_id) -> None:
    parameters = {"n": 1, "nested": {"list": [1, "two", None]}}
    run = new_run(
        client,
        flow_id,
        name="nightly",
        parameters=parameters,
        expected_start_time="2030-01-01T14:00:00+02:00",
    )
    assert (run["name"], run["parameters"]) == ("nightly", parameters)
    assert parse_time(run["expected_start_time"]) == T0
    assert parse_time(run["expected_start_time"]).utcoffset() == timedelta(0)


def test_a_run_of_an_unknown_flow_is_404(shared_client) -> None:
    response = shared_client.post("/api/flow_runs", json={"flow_id": str(uuid.uuid4())})
    assert response.status_code == 404


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "fields",
    [
        {"flow_id": "nope"},
        {"parameters": [1, 2]},
        {"expected_start_time": "tomorrow"},
        {"name": "x" * 201},
        {"name": "night\x00ly"},
        {"parameters": {"s": "a\x00b"}},
        {"parameters": {"a\x00b": 1}},
        {"parameters": {"deep": [{"list": ["ok", "\x00"]}]}},
        {"parameters": nested(MAX_JSON_DEPTH + 1)},
        # No offset: docs/api.md says datetimes carry a timezone, and guessing one shifts runs.
        {"expected_start_time": "2030-01-01T12:00:00"},
        # Valid instants whose UTC form falls outside years 1..9999.
        {"expected_start_time": "0001-01-01T00:00:00+01:00"},
        {"expected_start_time": "9999-12-31T23:59:59-01:00"},
    ],
    ids=[
        "bad-flow-id",
        "parameters-not-object",
        "bad-time",
        "name-too-long",
        "nul-in-name",
        "nul-in-parameter",
        "nul-in-parameter-key",
        "nul-deep-in-parameters",
        "parameters-too-deep",
        "naive-time",
        "before-year-1-in-utc",
        "after-year-9999-in-utc",
    ],
)
def test_bad_run_bodies_are_422(shared_client, shared_run, fields) -> None:
    body = {"flow_id": shared_run["flow_id"], **fields}
    response = shared_client.post("/api/flow_runs", json=body)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "parameters",
    ['{"x": NaN}', '{"x": Infinity}', '{"x": [1, -Infinity]}', '{"x": "\\udc00"}', "{flow_id:"],
    ids=["nan", "infinity", "minus-infinity-in-list", "lone-surrogate", "not-json"],
)
def test_invalid_json_is_422(shared_client, shared_run, parameters) -> None:
    """Python's JSON parser accepts NaN and Infinity, which JSONB refuses: they are 422."""
    content = f'{{"flow_id": "{shared_run["flow_id"]}", "parameters": {parameters}}}'
    response = shared_client.post(
        "/api/flow_runs", content=content.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text


def test_parameters_as_deep_as_allowed_are_kept(client, flow_id) -> None:
    parameters = nested(MAX_JSON_DEPTH)
    run = new_run(client, flow_id, parameters=parameters)
    assert client.get(f"/api/flow_runs/{run['id']}").json()["parameters"] == parameters
    assert client.get("/api/flow_runs").json()["items"][0]["parameters"] == parameters


@pytest.mark.parametrize(
    ("sent", "stored", "zone"),
    [
        # Fixed offsets (POSIX signs: Etc/GMT+11 is UTC-11), since zones' year-1 offsets are LMT.
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=timezone.utc), "Etc/GMT+11"),
        ("0001-01-01T05:00:00+05:00", datetime(1, 1, 1, tzinfo=timezone.utc), "Etc/GMT+11"),
        (
            "9999-12-31T23:59:59.999999Z",
            datetime.max.replace(tzinfo=timezone.utc),
            "Etc/GMT-14",
        ),
    ],
    ids=["first-instant", "first-instant-with-offset", "last-instant"],
)
def test_the_first_and_last_instants_are_kept(
    dialect, database_url, flow_id, sent, stored, zone
) -> None:
    """On PostgreSQL even when the database's time zone would put them outside years 1..9999."""
    if dialect == "postgresql":
        engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            name = connection.scalar(sa.text("SELECT current_database()"))
            connection.execute(sa.text(f"ALTER DATABASE \"{name}\" SET TimeZone = '{zone}'"))
            connection.commit()
        with engine.connect() as connection:  # the setting applies to sessions opened now on
            assert connection.scalar(sa.text("SHOW TimeZone")) == zone
        engine.dispose()
    with TestClient(create_app(database_url), base_url=LOOPBACK) as client:
        run = new_run(client, flow_id, expected_start_time=sent)
        assert parse_time(run["expected_start_time"]) == stored
        [listed] = client.get("/api/flow_runs", params={"start_before": sent}).json()["items"]
        assert listed == run


def test_runs_are_filtered_and_sorted_latest_first(client, flow_id, add_run, add_flow) -> None:
    other_flow = add_flow("other")
    times = [T0 + timedelta(hours=h) for h in range(4)]
    ids = [add_run(uuid.UUID(flow_id), expected_start_time=t) for t in times]
    add_run(other_flow, expected_start_time=T0)
    add_run(other_flow, state=StateType.FAILED, expected_start_time=T0)
    client.post(f"/api/flow_runs/{ids[1]}/set_state", json={"state": "CANCELLED"})
    client.post(f"/api/flow_runs/{ids[2]}/set_state", json={"state": "PENDING"})

    def listed(**params) -> list[str]:
        page = client.get("/api/flow_runs", params=params).json()
        assert page["total"] == len(page["items"])
        return [run["id"] for run in page["items"]]

    mine = [str(i) for i in ids]
    assert listed(flow_id=flow_id) == mine[::-1]
    assert len(listed()) == 6
    assert listed(flow_id=flow_id, state=["CANCELLED", "PENDING"]) == [mine[2], mine[1]]
    assert listed(flow_id=flow_id, state="SCHEDULED") == [mine[3], mine[0]]
    # Inclusive bounds, compared as instants whatever the offset.
    after, before = (times[1] + timedelta(hours=2)).isoformat(), times[2].isoformat()
    assert listed(flow_id=flow_id, start_after=after.replace("+00:00", "+02:00")) == mine[:0:-1]
    assert listed(flow_id=flow_id, start_before=before) == mine[2::-1]
    assert listed(start_after=times[1].isoformat(), start_before=before) == [mine[2], mine[1]]


def test_runs_come_a_page_at_a_time(client, flow_id, add_run) -> None:
    for h in range(5):
        add_run(uuid.UUID(flow_id), expected_start_time=T0 + timedelta(hours=h))
    pages = [
        client.get("/api/flow_runs", params={"limit": 2, "offset": o}).json() for o in (0, 2, 4)
    ]
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert {p["total"] for p in pages} == {5}
    seen = [run["expected_start_time"] for p in pages for run in p["items"]]
    assert [parse_time(t) for t in seen] == [T0 + timedelta(hours=h) for h in range(4, -1, -1)]


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1000000",
        "limit=201",
        "offset=-1",
        "offset=99999999999999999999",
        "state=DONE",
        "start_after=2030-01-01T12:00:00",
        "start_before=2030-01-01T12:00:00",
        "start_after=0001-01-01T00:00:00%2B01:00",
        "start_before=9999-12-31T23:59:59-01:00",
    ],
)
def test_bad_run_queries_are_422(shared_client, query) -> None:
    response = shared_client.get(f"/api/flow_runs?{query}")
    assert response.status_code == 422, response.text


def test_counts_have_every_state(client, flow_id, add_flow, add_run) -> None:
    other_flow = add_flow("other")
    add_run(uuid.UUID(flow_id))
    add_run(uuid.UUID(flow_id))
    add_run(uuid.UUID(flow_id), state=StateType.RUNNING)
    add_run(other_flow, state=StateType.FAILED)
    zero = dict.fromkeys([s.value for s in StateType], 0)
    assert client.get("/api/flow_runs/counts").json() == {
        **zero, "SCHEDULED": 2, "RUNNING": 1, "FAILED": 1,
    }  # fmt: skip
    mine = client.get("/api/flow_runs/counts", params={"flow_id": flow_id}).json()
    assert mine == {**zero, "SCHEDULED": 2, "RUNNING": 1}
    assert list(mine) == [s.value for s in StateType]


def test_unknown_runs_are_404(shared_client) -> None:
    client, unknown = shared_client, uuid.uuid4()
    assert client.get(f"/api/flow_runs/{unknown}").status_code == 404
    assert client.get(f"/api/flow_runs/{unknown}/task_runs").status_code == 404
    assert client.get(f"/api/flow_runs/{unknown}/logs").status_code == 404
    assert client.post(f"/api/flow_runs/{unknown}/logs", json=[]).status_code == 404
    response = client.post(f"/api/flow_runs/{unknown}/set_state", json={"state": "PENDING"})
    assert response.status_code == 404
    assert client.get("/api/flow_runs/not-a-uuid").status_code == 422


def test_set_state_rejects_unknown_states(shared_client, shared_run) -> None:
    url = f"/api/flow_runs/{shared_run['id']}/set_state"
    assert shared_client.post(url, json={"state": "DONE"}).status_code == 422
    assert shared_client.post(url, json={}).status_code == 422


def test_illegal_transition_is_409_with_the_contract_message(client, flow_id) -> None:
    run_id = new_run(client, flow_id)["id"]
    for state in ("PENDING", "RUNNING", "COMPLETED"):
        client.post(f"/api/flow_runs/{run_id}/set_state", json={"state": state})
    response = client.post(f"/api/flow_runs/{run_id}/set_state", json={"state": "RUNNING"})
    assert response.status_code == 409
    assert response.json() == {"detail": f"cannot move flow run {run_id} from COMPLETED to RUNNING"}


def test_task_runs_are_listed_oldest_first(client, flow_id, sessions) -> None:
    run_id = uuid.UUID(new_run(client, flow_id)["id"])
    assert client.get(f"/api/flow_runs/{run_id}/task_runs").json() == []
    with sessions.begin() as session:
        for name, age in (("second", 1), ("first", 2), ("third", 0)):
            session.add(TaskRun(flow_run_id=run_id, name=name, created=T0 - timedelta(hours=age)))
    task_runs = client.get(f"/api/flow_runs/{run_id}/task_runs").json()
    assert [t["name"] for t in task_runs] == ["first", "second", "third"]
    assert set(task_runs[0]) == {
        "id",
        "flow_run_id",
        "name",
        "state",
        "start_time",
        "end_time",
        "created",
    }
    assert task_runs[0]["state"] == "PENDING"


def test_logs_are_stored_and_listed_oldest_first(client, flow_id) -> None:
    run_id = new_run(client, flow_id)["id"]
    logs_url = f"/api/flow_runs/{run_id}/logs"
    batch = [{"level": 20, "message": f"line {i}"} for i in range(5)]
    assert client.post(logs_url, json=batch).json() == {"created": 5}
    early = {"level": 40, "message": "from the past", "timestamp": "2020-01-01T00:00:00+01:00"}
    response = client.post(logs_url, json=[early])
    assert (response.status_code, response.json()) == (201, {"created": 1})

    page = client.get(logs_url).json()
    assert (page["total"], page["limit"], page["offset"]) == (6, 200, 0)
    messages = [log["message"] for log in page["items"]]
    assert messages == ["from the past"] + [f"line {i}" for i in range(5)]
    first = page["items"][0]
    assert set(first) == {"id", "flow_run_id", "level", "message", "timestamp"}
    assert (first["flow_run_id"], first["level"]) == (run_id, 40)
    assert parse_time(first["timestamp"]) == datetime(2019, 12, 31, 23, tzinfo=timezone.utc)

    second_page = client.get(logs_url, params={"limit": 2, "offset": 2}).json()
    assert [log["message"] for log in second_page["items"]] == ["line 1", "line 2"]
    assert client.get(logs_url, params={"limit": 0}).status_code == 422
    assert client.get(logs_url, params={"limit": 1000000}).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"level": 20, "message": "not a list"},
        [{"message": "no level"}],
        [{"level": "high", "message": "m"}],
        [{"level": 20, "message": "ok"}, {"level": 20, "message": "a\x00b"}],
        [{"level": 20, "message": "m", "timestamp": "2030-01-01T12:00:00"}],
        [{"level": 20, "message": "m", "timestamp": "0001-01-01T00:00:00+00:01"}],
    ],
    ids=["object", "no-level", "bad-level", "nul-in-message", "naive-time", "before-year-1"],
)
def test_bad_log_bodies_are_422(shared_client, shared_run, body) -> None:
    url = f"/api/flow_runs/{shared_run['id']}/logs"
    before = shared_client.get(url).json()["total"]  # other tests log to the shared run too
    response = shared_client.post(url, json=body)
    assert response.status_code == 422, response.text
    assert shared_client.get(url).json()["total"] == before  # nothing of a refused batch is kept


def test_inputs_past_the_documented_limits_are_refused(shared_client, shared_run) -> None:
    from flowdesk.server.api.limits import MAX_BODY_BYTES
    from flowdesk.server.api.schemas import (
        MAX_LOG_BATCH,
        MAX_LOG_MESSAGE_CHARS,
        MAX_PARAMETERS_BYTES,
    )

    logs = f"/api/flow_runs/{shared_run['id']}/logs"
    big = {"blob": "x" * MAX_PARAMETERS_BYTES}
    refused = shared_client.post(
        "/api/flow_runs", json={"flow_id": shared_run["flow_id"], "parameters": big}
    )
    assert refused.status_code == 422
    assert f"at most {MAX_PARAMETERS_BYTES} bytes as JSON" in refused.text
    batch = [{"level": 20, "message": "m"}] * (MAX_LOG_BATCH + 1)
    assert shared_client.post(logs, json=batch).status_code == 422
    long = [{"level": 20, "message": "m" * (MAX_LOG_MESSAGE_CHARS + 1)}]
    assert shared_client.post(logs, json=long).status_code == 422
    assert shared_client.get(logs).json()["total"] == 0

    huge = b"[" + b" " * MAX_BODY_BYTES + b"]"
    declared = shared_client.post(logs, content=huge, headers={"content-type": "application/json"})
    assert declared.status_code == 413
    assert declared.json() == {"detail": f"request body larger than {MAX_BODY_BYTES} bytes"}
    chunked = shared_client.post(
        logs,
        content=iter([huge[:1024], huge[1024:]]),  # no Content-Length: sent in chunks
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413

    allowed = shared_client.post(logs, json=[{"level": 20, "message": "m"}] * MAX_LOG_BATCH)
    assert allowed.status_code == 201 and allowed.json() == {"created": MAX_LOG_BATCH}
    near = {"blob": "x" * (MAX_PARAMETERS_BYTES - 20)}
    assert new_run(shared_client, shared_run["flow_id"], parameters=near)["parameters"] == near


@pytest.mark.dialects("sqlite")
def test_a_lock_timeout_is_busy_retry_not_unavailable(client, flow_id, database_url) -> None:
    import sqlite3

    from sqlalchemy.engine import make_url

    run = new_run(client, flow_id)
    blocker = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        response = client.post(
            f"/api/flow_runs/{run['id']}/logs", json=[{"level": 20, "message": "m"}]
        )
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert response.status_code == 503
    assert response.json()["detail"].startswith("database busy, retry:")
    assert response.headers["retry-after"] == "1"


def test_the_body_cap_adds_up_a_body_sent_in_several_chunks() -> None:
    """Driven at the ASGI level: the test client hands the app a chunked body in one piece."""
    import asyncio

    from flowdesk.server.api.limits import BodySizeLimit

    received: list[bytes] = []

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        message = await receive()
        received.append(message["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def call(chunks: list[bytes]) -> list[dict]:
        messages = [
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
            for i, chunk in enumerate(chunks)
        ]
        sent: list[dict] = []

        async def receive() -> dict:
            return messages.pop(0)

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "headers": []}
        asyncio.run(BodySizeLimit(app, limit=10)(scope, receive, send))
        return sent

    refused = call([b"123456", b"789012"])  # 12 bytes in two chunks of 6
    assert refused[0]["status"] == 413 and received == []
    allowed = call([b"12345", b"67890"])  # exactly the limit
    assert allowed[0]["status"] == 200 and received == [b"1234567890"]
