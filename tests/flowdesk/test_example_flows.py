"""The example flows the dev worker imports really run, through the worker, to their end state."""

from __future__ import annotations

import sqlalchemy as sa

from flowdesk.registry import default_registry
from flowdesk.server.database.orm_models import FlowRun, Log, StateType
from flowdesk.worker import Worker


def test_example_flows_complete_and_fail_as_documented(
    database_url: str, add_flow, add_run, sessions
) -> None:
    import flowdesk.example_flows  # noqa: F401 - registers its flows, as --import does

    runs = {
        name: add_run(add_flow(name), parameters=parameters)
        for name, parameters in (
            ("hello", {"name": "dev"}),
            ("sleep", {"seconds": 0.01}),
            ("fail", {}),
        )
    }
    # The registry the worker CLI uses, filled by the module's own @flow names.
    with Worker(database_url, registry=default_registry, name="examples") as worker:
        assert worker.run_once() == 3
    with sessions() as session:
        states = {name: session.get(FlowRun, run_id).state for name, run_id in runs.items()}
        fail_logs = session.scalars(
            sa.select(Log.message).where(Log.flow_run_id == runs["fail"])
        ).all()
    assert states == {
        "hello": StateType.COMPLETED,
        "sleep": StateType.COMPLETED,
        "fail": StateType.FAILED,
    }
    assert any("this flow always fails" in message for message in fail_logs)
