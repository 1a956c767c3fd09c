"""The durable engines, in process: what a client acknowledged is there after a restart, two servers on one
state are one fake, a refused write leaves nothing, snapshots persist. Each test runs on SQLite and on a real
PostgreSQL server (tests/core/state/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.config.baseline import Baseline
from mockserver.core.settings import Settings
from mockserver.core.state import StateError, open_state
from mockserver.server.app import create_app

KEY = {"Authorization": "Bearer sk-durable"}
LINE = {"method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}}


def jsonl(n: int) -> bytes:
    return b"".join(json.dumps({"custom_id": f"r{i}", **LINE}).encode() + b"\n" for i in range(n))


@pytest.fixture
def start(target: str) -> Iterator[Callable[..., TestClient]]:
    """Start a server on the test's state, like `mockserver serve --state TARGET` (several may run at once)."""
    clients: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        app = create_app(Settings(state=target, clock_speed=0, response_validation="strict", **settings))
        Baseline.load().install(app.state.engine, app.state.providers)
        client = TestClient(app)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def upload(client: TestClient, content: bytes, name: str = "in.jsonl") -> dict[str, Any]:
    r = client.post("/anyapi/v1/files", headers=KEY, files={"file": (name, content)}, data={"purpose": "batch"})
    assert r.status_code == 200, r.text
    return dict(r.json())


def create_batch(client: TestClient, n: int = 3) -> dict[str, Any]:
    file = upload(client, jsonl(n))
    r = client.post("/anyapi/v1/batches", headers=KEY, json={"input_file_id": file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_restart_carries_the_batch_on_to_completed_with_its_output_and_never_reuses_an_id(start: Callable[..., TestClient]) -> None:
    first = start()
    batch = create_batch(first, 4)
    first.post("/_mock/clock/advance", json={"seconds": 1.5})
    assert first.get(f"/anyapi/v1/batches/{batch['id']}", headers=KEY).json()["status"] == "in_progress"
    first.close()

    again = start()  # same state, a new process's view of it
    assert again.get("/_mock/clock").json()["speed"] == 0  # the clock is where it was, frozen as it was
    seen = again.get(f"/anyapi/v1/batches/{batch['id']}", headers=KEY).json()
    assert seen["status"] == "in_progress" and seen["created_at"] == batch["created_at"]
    again.post("/_mock/clock/advance", json={"seconds": 10})
    done = again.get(f"/anyapi/v1/batches/{batch['id']}", headers=KEY).json()
    assert done["status"] == "completed" and done["request_counts"] == {"total": 4, "completed": 4, "failed": 0}
    output = again.get(f"/anyapi/v1/files/{done['output_file_id']}/content", headers=KEY)
    assert output.status_code == 200 and [json.loads(line)["custom_id"] for line in output.text.splitlines()] == ["r0", "r1", "r2", "r3"]
    newer = create_batch(again)
    assert newer["id"] != batch["id"] and newer["input_file_id"] not in (batch["input_file_id"], done["output_file_id"])


def test_two_servers_on_one_state_agree_on_objects_clock_and_pages(start: Callable[..., TestClient]) -> None:
    a, b = start(), start()
    made = [create_batch(a if i % 2 else b, 1)["id"] for i in range(7)]
    assert len(set(made)) == 7  # ids drawn under the state's lock: unique across servers
    for batch_id in made:
        assert b.get(f"/anyapi/v1/batches/{batch_id}", headers=KEY).status_code == 200
        assert a.get(f"/anyapi/v1/batches/{batch_id}", headers=KEY).status_code == 200
    a.post("/_mock/clock/advance", json={"seconds": 3600})
    assert a.get("/_mock/clock").json()["now"] == b.get("/_mock/clock").json()["now"]
    assert {b.get(f"/anyapi/v1/batches/{i}", headers=KEY).json()["status"] for i in made} == {"completed"}

    def pages(client: TestClient) -> list[str]:
        ids: list[str] = []
        after = None
        while True:
            r = client.get("/anyapi/v1/batches", headers=KEY, params={"limit": 3, **({"after": after} if after else {})}).json()
            ids += [item["id"] for item in r["data"]]
            if not r["has_more"]:
                return ids
            after = r["data"][-1]["id"]

    assert pages(a) == pages(b) == list(reversed(made))


def test_a_refused_write_leaves_nothing_and_a_cancel_is_seen_everywhere(start: Callable[..., TestClient]) -> None:
    a, b = start(), start()
    batch = create_batch(a, 2)
    r = b.post("/anyapi/v1/batches", headers=KEY, json={"input_file_id": "file-missing", "endpoint": "/v1/chat/completions", "completion_window": "24h"})
    assert r.status_code == 404
    r = b.post(f"/anyapi/v1/batches/{batch['id']}/cancel", headers=KEY)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"  # AnyAPI cancels at once
    cancelled = a.get(f"/anyapi/v1/batches/{batch['id']}", headers=KEY).json()
    assert cancelled["status"] == "cancelled"
    a.post("/_mock/clock/advance", json={"seconds": 3600})
    assert b.get(f"/anyapi/v1/batches/{batch['id']}", headers=KEY).json() == cancelled  # terminal stays terminal
    listed = a.get("/anyapi/v1/batches", headers=KEY).json()["data"]
    assert [item["id"] for item in listed] == [batch["id"]]


def test_scenarios_and_faults_set_at_run_time_survive_a_restart(start: Callable[..., TestClient]) -> None:
    first = start()
    assert first.post("/_mock/scenarios", json={"scenarios": {"slow": {"durations": {"in_progress": 100}}}, "default": "slow"}).status_code == 200
    assert first.post("/_mock/faults", json={"provider": "anyapi", "operation": "listBatches", "status": 503}).status_code == 200
    first.close()
    again = start()
    assert again.get("/anyapi/v1/batches", headers=KEY).status_code == 503
    assert again.get("/_mock/scenarios").json()["default"] == "slow"


def test_snapshots_are_stored_named_exported_and_restored_across_restarts(start: Callable[..., TestClient], tmp_path: Path) -> None:
    first = start()
    kept = create_batch(first)
    assert first.post("/_mock/snapshot", json={"name": "before"}).json() == {"id": "before"}
    exported = tmp_path / "before.snapshot"
    assert first.post("/_mock/snapshot", json={"path": str(exported)}).status_code == 200 and exported.stat().st_size > 0
    r = first.post("/_mock/snapshot", json={"name": "nowhere", "path": str(tmp_path / "missing" / "x.snapshot")})
    assert r.status_code == 400 and "cannot write the snapshot" in r.json()["error"]["message"]
    assert first.get("/_mock/snapshots").json()["data"] == ["before", "snap_2"]  # the failed one kept nothing
    later = create_batch(first)
    first.close()

    again = start()
    assert again.get(f"/anyapi/v1/batches/{later['id']}", headers=KEY).status_code == 200
    assert again.post("/_mock/restore", json={"id": "nowhere"}).status_code == 404
    assert again.post("/_mock/restore", json={"id": "before"}).status_code == 200
    assert again.get(f"/anyapi/v1/batches/{later['id']}", headers=KEY).status_code == 404
    assert again.get(f"/anyapi/v1/batches/{kept['id']}", headers=KEY).status_code == 200

    elsewhere = TestClient(create_app(Settings(clock_speed=0)))  # an in-memory server reads the exported file
    assert elsewhere.post("/_mock/restore", json={"path": str(exported)}).status_code == 200
    assert elsewhere.get(f"/anyapi/v1/batches/{kept['id']}", headers=KEY).status_code == 200
    r = elsewhere.post("/_mock/restore", json={"path": str(tmp_path / "nope")})
    assert r.status_code == 400 and "cannot read a snapshot" in r.json()["error"]["message"]


def test_large_contents_are_stored_once_apart_from_the_namespace_row(start: Callable[..., TestClient], target: str) -> None:
    client = start()
    content = jsonl(3000)  # ~500 KB
    file = upload(client, content)
    create_batch(client)  # writes the namespace again: the content is not copied into its row
    state = open_state(target)
    tx = state.begin(write=False)
    try:
        rows = tx.load_prefix("ns/")
        assert rows and max(len(blob) for _, _, blob in rows) < len(content) // 4
    finally:
        tx.rollback()
        state.close()
    assert client.get(f"/anyapi/v1/files/{file['id']}/content", headers=KEY).content == content


def test_every_provider_keeps_its_objects_across_a_restart(start: Callable[..., TestClient]) -> None:
    first = start()
    retell = first.post("/retell/create-test-case-definition", headers=KEY, json={
        "name": "greets", "response_engine": {"type": "retell-llm", "llm_id": "llm_1"}, "user_prompt": "say hi",
        "metrics": ["greets the user"],
    })
    assert retell.status_code == 201, retell.text
    formant = first.post("/formant/v1/batch-call", headers=KEY, data={"agent_id": "123", "name": "follow ups"},
                         files={"file": ("contacts.csv", b"customer_phone\n+14155550100\n+14155550101\n", "text/csv")})
    assert formant.status_code == 200, formant.text
    first.close()
    again = start()
    definition_id = retell.json()["test_case_definition_id"]
    assert again.get(f"/retell/get-test-case-definition/{definition_id}", headers=KEY).json()["name"] == "greets"
    batch = again.get(f"/formant/v1/batch-calls/{formant.json()['data']['id']}", headers=KEY)
    assert batch.status_code == 200 and batch.json()["data"]["total_recipients"] == 2
    for prefix, headers in (("/phaseo/v1", KEY), ("/portkey/v1", {"x-portkey-api-key": "pk-durable", "x-portkey-provider": "openai"})):
        r = again.post(f"{prefix}/files", headers=headers, files={"file": ("in.jsonl", jsonl(2))}, data={"purpose": "batch"})
        assert r.status_code == 200, r.text
        body = {"input_file_id": r.json()["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        made = again.post(f"{prefix}/batches", headers=headers, json=body)
        assert made.status_code == 200, made.text
        third = start()
        third.post("/_mock/clock/advance", json={"seconds": 60})
        done = third.get(f"{prefix}/batches/{made.json()['id']}", headers=headers).json()
        assert done["status"] == "completed", done
    second = again.post("/formant/v1/batch-call", headers=KEY, data={"agent_id": "123", "name": "again"},
                        files={"file": ("contacts.csv", b"customer_phone\n+14155550100\n", "text/csv")})
    assert second.json()["data"]["id"] != formant.json()["data"]["id"]  # integer ids carry on after a restart


def test_a_state_path_that_cannot_be_used_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="does not exist"):
        open_state(str(tmp_path / "missing" / "state.db"))
    with pytest.raises(StateError, match="is a directory"):
        open_state(str(tmp_path))
    (tmp_path / "junk.db").write_bytes(b"not a database" * 100)
    with pytest.raises(StateError, match="cannot"):
        open_state(str(tmp_path / "junk.db"))


def test_reset_empties_the_state_for_every_server_and_ids_start_over(start: Callable[..., TestClient], target: str) -> None:
    a, b = start(), start()
    batch = create_batch(a)
    upload(a, jsonl(3000))  # a large content, stored apart
    a.post("/_mock/snapshot", json={"name": "kept"})
    assert b.post("/_mock/reset").status_code == 200
    assert a.get(f"/anyapi/v1/batches/{batch['id']}", headers=KEY).status_code == 404
    assert a.get("/_mock/snapshots").json()["data"] == []
    state = open_state(target)
    tx = state.begin(write=False)
    try:
        assert tx.keys("ns/") == [] and not tx.has_blob("0" * 64)
        assert tx.conn.execute("SELECT count(*) FROM mock_blobs").fetchone()[0] == 0  # type: ignore[attr-defined]
    finally:
        tx.rollback()
        state.close()
    assert create_batch(a)["id"] == batch["id"]  # ids restart from the seed after a reset, as in memory


def test_concurrent_requests_in_one_process_each_get_their_own_transaction(target: str) -> None:
    import asyncio

    import httpx

    app = create_app(Settings(state=target, clock_speed=0))
    Baseline.load().install(app.state.engine, app.state.providers)

    async def one(client: httpx.AsyncClient, i: int) -> tuple[str, str]:
        r = await client.post("/anyapi/v1/files", headers=KEY, files={"file": ("in.jsonl", jsonl(1 + i % 3))}, data={"purpose": "batch"})
        assert r.status_code == 200, r.text
        body = {"input_file_id": r.json()["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        b = await client.post("/anyapi/v1/batches", headers=KEY, json=body)
        assert b.status_code == 200, b.text
        got = await client.get(f"/anyapi/v1/batches/{b.json()['id']}", headers=KEY)
        assert got.status_code == 200, got.text
        return r.json()["id"], b.json()["id"]

    async def run() -> list[tuple[str, str]]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
            return list(await asyncio.gather(*(one(client, i) for i in range(40))))

    made = asyncio.run(run())
    ids = [i for pair in made for i in pair]
    assert len(set(ids)) == 80
    again = TestClient(create_app(Settings(state=target, clock_speed=0)))
    listed = again.get("/anyapi/v1/batches", headers=KEY, params={"limit": 100}).json()["data"]
    assert sorted(b["id"] for b in listed) == sorted(b for _, b in made)
