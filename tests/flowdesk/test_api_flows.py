"""``/api/flows``."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from pydantic import TypeAdapter

parse_time = TypeAdapter(datetime).validate_python


def test_create_and_read_a_flow(client) -> None:
    response = client.post("/api/flows", json={"name": "etl"})
    assert response.status_code == 201
    flow = response.json()
    assert set(flow) == {"id", "name", "created", "updated"}
    assert flow["name"] == "etl"
    uuid.UUID(flow["id"])
    assert parse_time(flow["created"]).utcoffset() is not None
    assert client.get(f"/api/flows/{flow['id']}").json() == flow


def test_a_flow_name_is_unique(client) -> None:
    client.post("/api/flows", json={"name": "etl"})
    response = client.post("/api/flows", json={"name": "etl"})
    assert response.status_code == 409
    assert "etl" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 201}, {"name": 3}, [{"name": "etl"}]],
    ids=["missing", "empty", "too-long", "not-a-string", "not-an-object"],
)
def test_bad_flow_bodies_are_422(shared_client, body) -> None:
    assert shared_client.post("/api/flows", json=body).status_code == 422


def test_invalid_json_is_422(shared_client) -> None:
    response = shared_client.post(
        "/api/flows", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_flows_are_listed_by_name_a_page_at_a_time(client) -> None:
    for name in ("gamma", "alpha", "beta"):
        client.post("/api/flows", json={"name": name})
    first = client.get("/api/flows", params={"limit": 2}).json()
    second = client.get("/api/flows", params={"limit": 2, "offset": 2}).json()
    assert [f["name"] for f in first["items"]] == ["alpha", "beta"]
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    assert [f["name"] for f in second["items"]] == ["gamma"]
    assert (second["total"], second["limit"], second["offset"]) == (3, 2, 2)
    assert client.get("/api/flows").json()["limit"] == 50


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=1000000", "offset=-1", "limit=x"])
def test_bad_pages_are_422(shared_client, query) -> None:
    assert shared_client.get(f"/api/flows?{query}").status_code == 422


def test_unknown_flow_is_404_and_a_malformed_id_422(shared_client) -> None:
    assert shared_client.get(f"/api/flows/{uuid.uuid4()}").status_code == 404
    assert shared_client.get("/api/flows/not-a-uuid").status_code == 422
