"""The example flows the dev worker imports really run, through the worker, to their end state."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from flowdesk.registry import FlowRegistry
from flowdesk.server.database.orm_models import Flow, FlowRun, Log, StateType
from flowdesk.worker import Worker


def test_example_flows_complete_and_fail_as_documented(database_url: str) -> None:
    import flowdesk.example_flows as examples

    registry = FlowRegistry()
    for name, fn in (("hello", examples.hello), ("sleep", examples.sleep), ("fail", examples.fail)):
        registry.register(name, fn)
    engine = sa.create_engine(database_url)
    runs = {}
    with engine.begin() as conn:
        for name, parameters in (
            ("hello", {"name": "dev"}),
            ("sleep", {"seconds": 0.01}),
            ("fail", {}),
        ):
            flow_id, run_id = uuid.uuid4(), uuid.uuid4()
            conn.execute(sa.insert(Flow).values(id=flow_id, name=name))
            conn.execute(
                sa.insert(FlowRun).values(
                    id=run_id,
                    flow_id=flow_id,
                    parameters=parameters,
                    expected_start_time=sa.func.now(),
                    state=StateType.SCHEDULED,
                )
            )
            runs[name] = run_id
    with Worker(database_url, registry=registry, name="examples") as worker:
        assert worker.run_once() == 3
    with engine.connect() as conn:
        states = {
            name: conn.scalar(sa.select(FlowRun.state).where(FlowRun.id == rid))
            for name, rid in runs.items()
        }
        fail_logs = conn.scalars(
            sa.select(Log.message).where(Log.flow_run_id == runs["fail"])
        ).all()
    engine.dispose()
    assert states == {
        "hello": StateType.COMPLETED,
        "sleep": StateType.COMPLETED,
        "fail": StateType.FAILED,
    }
    assert any("this flow always fails" in message for message in fail_logs)
