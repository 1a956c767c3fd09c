"""Phaseo's batch lifecycle WebSocket (/v1/async/batch/{id}/ws) over a real socket, on the simulated clock."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosedOK, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from mockserver.server.live import LiveServer

AUTH = {"Authorization": "Bearer aistats_v1_sk_stream_secret"}


@pytest.fixture
def server(frozen_server: LiveServer) -> LiveServer:
    """The session's strict live server (tests/conftest.py), emptied, its clock frozen."""
    return frozen_server


def create(server: LiveServer, lines: int = 4) -> dict[str, Any]:
    client = httpx.Client(base_url=server.base_url("phaseo"), headers=AUTH)
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    content = "".join(json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}) + "\n" for i in range(lines))
    file = client.post("/files", files={"file": ("in.jsonl", content)}, data={"purpose": "batch"}).json()
    return client.post("/batches", json={"input_file_id": file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}).json()


def message(ws: ClientConnection, timeout: float = 2.0) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=timeout))


def test_snapshot_then_an_update_each_time_the_clock_passes_a_moment_then_closed_at_the_end(server: LiveServer) -> None:
    batch = create(server)
    with connect(batch["websocket_url"], additional_headers=AUTH) as ws:
        snapshot = message(ws)
        assert snapshot["type"] == "job.snapshot" and snapshot["data"]["id"] == batch["id"]
        assert snapshot["data"]["lifecycle_status"] == "pending"
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.4)  # the clock is frozen: nothing changes, nothing is sent
        server.engine.clock.advance(1.6)  # validated, and a quarter of the lines done
        update = message(ws)
        assert update["type"] == "job.updated" and update["data"]["status"] == "in_progress"
        assert update["data"]["progress"] == 25 and update["data"]["request_counts"]["completed"] == 1
        server.engine.clock.advance(10)
        last = message(ws)
        assert last["data"]["status"] == "completed" and last["data"]["progress"] == 100 and last["data"]["output_file_id"]
        with pytest.raises(ConnectionClosedOK):
            ws.recv(timeout=2)  # close_on_terminal defaults to true


def test_ping_pong_and_a_stream_kept_open_sees_the_batch_deleted_by_a_reset(server: LiveServer) -> None:
    batch = create(server)
    with connect(batch["websocket_url"] + "?close_on_terminal=false&interval_ms=1000", additional_headers=AUTH) as ws:
        assert message(ws)["type"] == "job.snapshot"
        ws.send(json.dumps({"type": "ping"}))
        assert message(ws) == {"type": "pong"}
        server.engine.reset()
        assert message(ws)["type"] == "job.deleted"


@pytest.mark.parametrize(
    ("suffix", "headers", "status", "words"),
    [
        ("", {"Authorization": "Bearer aistats_v1_sk_other_key"}, 404, "async_job_not_found_or_not_owned"),
        ("", {}, 401, "Missing API key"),
        ("?interval_ms=50", AUTH, 400, "interval_ms must be an integer from 1000 to 10000"),
        ("?close_on_terminal=maybe", AUTH, 400, "close_on_terminal must be true or false"),
    ],
)
def test_a_refused_handshake_answers_phaseos_error_envelope(server: LiveServer, suffix: str, headers: dict[str, str], status: int, words: str) -> None:
    batch = create(server)
    with pytest.raises(InvalidStatus) as refused:
        connect(batch["websocket_url"] + suffix, additional_headers=headers)
    response = refused.value.response
    body = json.loads(bytes(response.body))
    assert response.status_code == status and body["status_code"] == status and words in body["description"]
