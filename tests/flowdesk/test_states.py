"""The flow-run state machine of docs/api.md, as a table and through the API."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from pydantic import TypeAdapter

from flowdesk.server.database.orm_models import StateType
from flowdesk.server.states import is_allowed

S = StateType
#: Written from docs/api.md, independently of flowdesk.server.states.
CONTRACT = {
    (S.SCHEDULED, S.PENDING),
    (S.SCHEDULED, S.CANCELLED),
    (S.PENDING, S.RUNNING),
    (S.PENDING, S.FAILED),
    (S.PENDING, S.CANCELLED),
    (S.RUNNING, S.COMPLETED),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.CANCELLED),
}
ALL_PAIRS = list(itertools.product(StateType, StateType))


@pytest.mark.parametrize(
    ("current", "new"), ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS]
)
def test_transition_table(current: StateType, new: StateType) -> None:
    assert is_allowed(current, new) == ((current, new) in CONTRACT)


def test_every_transition_through_the_api(client, add_flow, add_run) -> None:
    """One database for all 36 pairs; the mismatches are listed together."""
    flow_id = add_flow("etl")
    wrong = []
    for current, new in ALL_PAIRS:
        run_id = add_run(flow_id, state=current)
        response = client.post(f"/api/flow_runs/{run_id}/set_state", json={"state": new.value})
        after = client.get(f"/api/flow_runs/{run_id}").json()
        if (current, new) in CONTRACT:
            expected_start = new is S.RUNNING
            expected_end = new in {S.COMPLETED, S.FAILED, S.CANCELLED}
            ok = (
                response.status_code == 200
                and response.json() == after
                and after["state"] == new.value
                and (after["start_time"] is not None) == expected_start
                and (after["end_time"] is not None) == expected_end
            )
        else:
            message = f"cannot move flow run {run_id} from {current.value} to {new.value}"
            ok = (
                response.status_code == 409
                and response.json() == {"detail": message}
                and after["state"] == current.value
            )
        if not ok:
            wrong.append(f"{current.value}->{new.value}: {response.status_code} {response.text}")
    assert wrong == []


def test_a_run_keeps_its_start_time_when_it_ends(client, add_flow, add_run) -> None:
    run_id = add_run(add_flow("etl"), state=S.PENDING)
    running = client.post(f"/api/flow_runs/{run_id}/set_state", json={"state": "RUNNING"}).json()
    done = client.post(f"/api/flow_runs/{run_id}/set_state", json={"state": "COMPLETED"}).json()
    assert done["start_time"] == running["start_time"]
    parse = TypeAdapter(datetime).validate_python
    assert parse(done["end_time"]) >= parse(done["start_time"])
