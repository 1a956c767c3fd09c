from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mockserver.providers import anyapi
from mockserver.providers.base import Provider
from mockserver.server.app import create_app
from mockserver.server.pipeline import StartupError


def test_startup_fails_loudly_when_an_operation_has_no_handler() -> None:
    handlers = dict(anyapi.PROVIDER.handlers)
    del handlers["cancelBatch"]
    broken = Provider(**{**anyapi.PROVIDER.__dict__, "handlers": handlers})
    with pytest.raises(StartupError, match="without a handler: cancelBatch"):
        create_app(providers={"anyapi": broken})
    unsupported = Provider(**{**anyapi.PROVIDER.__dict__, "handlers": handlers, "unsupported": {"cancelBatch": "not yet"}})
    client = TestClient(create_app(providers={"anyapi": unsupported}))
    r = client.post("/anyapi/v1/batches/b/cancel", headers={"Authorization": "Bearer k"})
    assert r.status_code == 400 and "not supported by the mock" in r.json()["error"]["message"]


def test_startup_fails_on_a_handler_for_an_operation_the_spec_lacks() -> None:
    broken = Provider(**{**anyapi.PROVIDER.__dict__, "handlers": {**anyapi.PROVIDER.handlers, "deleteEverything": anyapi.PROVIDER.handlers["cancelBatch"]}})
    with pytest.raises(StartupError, match="deleteEverything"):
        create_app(providers={"anyapi": broken})


def test_index_lists_every_provider_base_url(client: TestClient) -> None:
    body = client.get("/").json()
    assert body["providers"]["anyapi"].endswith("/anyapi/v1") and body["providers"]["portkey"].endswith("/portkey/v1")
    assert body["admin"].endswith("/_mock")


def test_admin_clock_advance_and_reset(client: TestClient) -> None:
    now = client.get("/_mock/clock").json()["now"]
    advanced = client.post("/_mock/clock/advance", json={"seconds": 3600}).json()["now"]
    assert advanced >= now + 3600
    assert client.post("/_mock/clock/advance", json={"seconds": -5}).status_code == 400
    assert client.post("/_mock/clock/advance", content=b"nope").status_code == 400
    headers = {"Authorization": "Bearer secret-key-123"}
    file_id = client.post("/anyapi/v1/files", headers=headers, data={"purpose": "batch"}, files={"file": ("a.jsonl", b"{}\n")}).json()["id"]
    client.post("/anyapi/v1/batches", headers=headers, json={"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"})
    rows = client.get("/_mock/batches").json()["data"]
    assert len(rows) == 1 and rows[0]["provider"] == "anyapi" and "secret-key-123" not in str(rows)
    assert client.post("/_mock/reset").status_code == 200
    assert client.get("/_mock/batches").json()["data"] == []
    assert client.get("/anyapi/v1/files/" + file_id, headers=headers).status_code == 404


def test_admin_refuses_clock_values_that_would_break_the_server(client: TestClient) -> None:
    before = client.get("/_mock/clock").json()["now"]
    for path, body in (
        ("/_mock/clock/speed", b'{"speed": NaN}'),
        ("/_mock/clock/speed", b'{"speed": 1e400}'),
        ("/_mock/clock/speed", b'{"speed": true}'),
        ("/_mock/clock/advance", b'{"seconds": 3e11}'),
        ("/_mock/clock/advance", b'{"seconds": true}'),
    ):
        assert client.post(path, content=body, headers={"content-type": "application/json"}).status_code == 400, body
    assert client.get("/_mock/clock").json()["now"] >= before
    assert client.get("/formant/v1/batch-calls", headers={"Authorization": "Bearer k"}).status_code == 200
