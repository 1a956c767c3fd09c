"""The admin API's scenario, fault, journal and snapshot endpoints (/_mock/...)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from openai import OpenAI

from mockserver.testing.harness import Harness
from tests.conftest import jsonl

BEARER = {"Authorization": "Bearer k"}


@pytest.fixture
def admin(mock_server: Harness) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock_server.url + "/_mock") as client:
        yield client


def anyapi(mock_server: Harness) -> httpx.Client:
    return httpx.Client(base_url=mock_server.base_url("anyapi"), headers=BEARER)


# -- scenarios ------------------------------------------------------------------------------------------


def test_scenarios_are_set_listed_and_cleared(mock_server: Harness, admin: httpx.Client) -> None:
    listed = admin.get("/scenarios").json()
    assert listed["default"] is None and listed["scenarios"] == {} and {"expire", "stall", "all_pass"} <= set(listed["builtin"])
    answer = admin.post("/scenarios", json={"default": "forever", "scenarios": {"forever": {"durations": {"in_progress": "never"}}, "half": {"line_failure_rate": 0.5}}})
    assert answer.status_code == 200
    assert answer.json()["scenarios"]["forever"] == {"in_progress": "never"}  # JSON has no infinity
    assert mock_server.engine.scenarios.default == "forever"
    batch = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="k").batches
    file = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="k").files.create(file=("a.jsonl", io.BytesIO(jsonl(2))), purpose="batch")
    created = batch.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
    mock_server.clock.advance(3600)
    assert batch.retrieve(created.id).status == "in_progress"
    assert admin.delete("/scenarios/forever").json()["default"] is None
    assert admin.delete("/scenarios/forever").status_code == 404
    assert admin.delete("/scenarios").json()["scenarios"] == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"scenarios": {"x": {"line_failure_rate": 3}}}, "admin API (POST /_mock/scenarios), key 'scenarios.x.line_failure_rate': expected a number between 0 and 1, got 3"),
        ({"default": "nope"}, "key 'default': expected the name of a scenario ("),
        ({"faults": []}, "faults are set with POST /_mock/faults"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_a_bad_scenario_is_a_400_naming_the_key(admin: httpx.Client, body: object, message: str) -> None:
    answer = admin.post("/scenarios", json=body)
    assert answer.status_code == 400 and message in answer.json()["error"]["message"]


# -- faults ---------------------------------------------------------------------------------------------


def test_faults_are_added_listed_with_counters_and_removed(mock_server: Harness, admin: httpx.Client) -> None:
    added = admin.post("/faults", json={"provider": "anyapi", "operation": "listBatches", "status": 503, "every": 2}).json()["data"]
    assert [f["id"] for f in added] == ["fault_1"]
    more = admin.post("/faults", json={"faults": [{"provider": "formant", "latency": 0.01}, {"drop": True, "provider": "retell", "times": 1}]})
    assert [f["id"] for f in more.json()["data"]] == ["fault_2", "fault_3"]
    client = anyapi(mock_server)
    assert [client.get("/batches").status_code for _ in range(4)] == [200, 503, 200, 503]
    listed = admin.get("/faults").json()["data"]
    assert (listed[0]["seen"], listed[0]["fired"], listed[1]["latency"]) == (4, 2, [0.01, 0.01])
    assert admin.delete("/faults/fault_1").json() == {"deleted": "fault_1"}
    assert admin.delete("/faults/fault_1").status_code == 404
    assert [f["id"] for f in admin.get("/faults").json()["data"]] == ["fault_2", "fault_3"]
    assert admin.delete("/faults").json()["data"] == [] and list(mock_server.engine.faults) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": 404}, "admin API (POST /_mock/faults), key 'status': expected one of 429, 500, 502, 503, got 404"),
        ([{"status": 500}, {"provider": "anyapi", "operation": "nope", "status": 500}], "key '[1].operation': expected an operationId of anyapi or '*'"),
        ({"provider": "anyapi"}, "expected a fault with at least one of 'status', 'latency' or 'drop: true'"),
        ("not json", "expected a JSON fault object or list"),
    ],
)
def test_a_bad_fault_is_a_400_naming_the_key(admin: httpx.Client, body: object, message: str) -> None:
    answer = admin.post("/faults", content=body) if isinstance(body, str) else admin.post("/faults", json=body)
    assert answer.status_code == 400 and message in answer.json()["error"]["message"]


def test_reset_brings_back_the_start_up_faults_only(mock_server: Harness, admin: httpx.Client) -> None:
    from mockserver.config.baseline import Baseline
    from mockserver.config.faults import Fault

    engine = mock_server.engine
    hooks = list(engine.reset_hooks)
    try:
        Baseline(faults=[Fault(provider="anyapi", status=500, times=1)]).install(engine, mock_server.providers)
        admin.post("/faults", json={"status": 429})
        anyapi(mock_server).get("/batches")
        assert [(f["id"], f["fired"]) for f in admin.get("/faults").json()["data"]] == [("fault_1", 1), ("fault_2", 0)]
        admin.post("/reset")
        assert [(f["id"], f["fired"]) for f in admin.get("/faults").json()["data"]] == [("fault_1", 0)]
    finally:
        engine.reset_hooks.set(hooks)


# -- the journal ----------------------------------------------------------------------------------------


def test_the_journal_filters_and_clears(mock_server: Harness, admin: httpx.Client) -> None:
    admin.post("/faults", json={"provider": "anyapi", "operation": "retrieveBatch", "status": 429, "times": 1})
    client = anyapi(mock_server)
    client.get("/batches")
    client.get("/batches/batch_x")
    client.get("/batches/batch_x")
    httpx.get(mock_server.base_url("formant") + "/v1/batch-calls", headers=BEARER)
    assert len(admin.get("/requests").json()["data"]) == 4
    assert [e["status"] for e in admin.get("/requests", params={"provider": "anyapi", "operation": "retrieveBatch"}).json()["data"]] == [429, 404]
    (limited,) = admin.get("/requests", params={"status": 429}).json()["data"]
    assert (limited["fault"], limited["method"], limited["path"]) == ("fault_1", "GET", "/batches/batch_x")
    assert [e["provider"] for e in admin.get("/requests", params={"provider": "formant"}).json()["data"]] == ["formant"]
    assert admin.get("/requests", params={"colour": "red"}).status_code == 400
    assert admin.delete("/requests").json()["data"] == []
    assert admin.get("/requests").json()["data"] == []


# -- snapshot and restore -------------------------------------------------------------------------------


def test_snapshot_and_restore_the_whole_state(mock_server: Harness, admin: httpx.Client) -> None:
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="k")
    kept = client.files.create(file=("a.jsonl", io.BytesIO(jsonl(1))), purpose="batch")
    admin.post("/scenarios", json={"scenarios": {"mine": {"cancel_race": True}}})
    snapshot = admin.post("/snapshot").json()["id"]
    later = client.files.create(file=("b.jsonl", io.BytesIO(jsonl(1))), purpose="batch")
    admin.post("/faults", json={"provider": "portkey", "status": 500})
    admin.delete("/scenarios")
    restored = admin.post("/restore", json={"id": snapshot})
    assert restored.status_code == 200 and restored.json()["restored"] == snapshot
    assert client.files.retrieve(kept.id).id == kept.id
    assert anyapi(mock_server).get(f"/files/{later.id}").status_code == 404
    assert "mine" in admin.get("/scenarios").json()["scenarios"] and admin.get("/faults").json()["data"] == []
    assert admin.post("/restore", json={"id": "snap_99"}).status_code == 404
    assert admin.post("/restore", json={}).status_code == 400
    admin.post("/reset")
    assert admin.post("/restore", json={"id": snapshot}).status_code == 404  # reset drops snapshots
