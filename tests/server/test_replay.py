"""serve --replay: recorded exchanges answered exactly (method, path, query, normalised body), the rest simulated or,
strict, a 404 in the provider's envelope; which answers came from the recording shows in the admin API."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest
from openai import OpenAI
from starlette.testclient import TestClient

from mockserver.cli import main
from mockserver.core.settings import Settings
from mockserver.server.app import create_app
from mockserver.server.cassette import CassetteError, CassetteWriter

BATCH = {"id": "batch_rec1", "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": "file-rec",
         "completion_window": "24h", "status": "in_progress", "created_at": 1700000000, "expires_at": 1700086400,
         "request_counts": {"total": 2, "completed": 1, "failed": 0}, "metadata": None}


def write_cassette(folder: Path, exchanges: list[tuple[str, str, str, bytes, int, bytes]]) -> Path:
    """A cassette of (method, path, query, request body, status, response body) exchanges, as the recorder writes them."""
    writer = CassetteWriter(folder)
    for method, path, query, body, status, answer in exchanges:
        writer.append({
            "provider": "anyapi", "operation": None, "started_at": "2026-12-04T00:00:00.000Z", "duration_ms": 1.0,
            "request": {"method": method, "path": path, "query": query, "headers": [["content-type", "application/json"]], "body": writer.body(body)},
            "response": {"status": status, "headers": [["content-type", "application/json"], ["x-request-id", "req_recorded"]],
                         "body": writer.body(answer)},
            "upstream_error": None, "problems": [],
        })
    return writer.path


def polls(tmp_path: Path) -> Path:
    done = {**BATCH, "status": "completed", "request_counts": {"total": 2, "completed": 2, "failed": 0}, "output_file_id": "file-out"}
    return write_cassette(tmp_path, [
        ("GET", "/anyapi/v1/batches/batch_rec1", "", b"", 200, json.dumps(BATCH).encode()),
        ("GET", "/anyapi/v1/batches/batch_rec1", "", b"", 200, json.dumps(done).encode()),
        ("POST", "/anyapi/v1/batches", "", json.dumps({"input_file_id": "file-rec", "endpoint": "/v1/chat/completions", "completion_window": "24h"}).encode(),
         200, json.dumps({**BATCH, "status": "validating"}).encode()),
    ])


def test_repeated_requests_are_answered_in_recorded_order_then_the_last_again(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(), replay=str(polls(tmp_path)))) as http:
        statuses = [http.get("/anyapi/v1/batches/batch_rec1").json()["status"] for _ in range(3)]
        answer = http.get("/anyapi/v1/batches/batch_rec1")
    assert statuses == ["in_progress", "completed", "completed"]
    assert answer.headers["x-request-id"] == "req_recorded" and answer.headers["x-mock-replay"] == "2"


def test_a_json_body_matches_whatever_its_key_order_and_another_body_does_not(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(), replay=str(polls(tmp_path)), replay_strict=True)) as http:
        same = http.post("/anyapi/v1/batches", content=b'{"completion_window":"24h","endpoint":"/v1/chat/completions","input_file_id":"file-rec"}',
                         headers={"Authorization": "Bearer k", "content-type": "application/json"})
        other = http.post("/anyapi/v1/batches", json={"input_file_id": "file-other", "endpoint": "/v1/chat/completions", "completion_window": "24h"},
                          headers={"Authorization": "Bearer k"})
    assert same.status_code == 200 and same.json()["id"] == "batch_rec1"
    assert other.status_code == 404 and "No recorded exchange" in other.json()["error"]["message"]


def test_strict_replay_answers_what_the_cassette_lacks_with_a_404_in_the_providers_envelope(tmp_path: Path) -> None:
    app = create_app(Settings(), replay=str(polls(tmp_path)), replay_strict=True)
    with TestClient(app) as http:
        client = OpenAI(base_url="http://testserver/anyapi/v1", api_key="k", max_retries=0, http_client=http)
        assert client.batches.retrieve("batch_rec1").status == "in_progress"
        with pytest.raises(openai.NotFoundError) as missing:
            client.batches.retrieve("batch_never_recorded")
        assert "batch_never_recorded" in missing.value.message
        state = http.get("/_mock/replay").json()
        journal = http.get("/_mock/requests").json()["data"]
    assert [(e["operation"], e["status"], e["source"]) for e in journal] == [("retrieveBatch", 200, "replay:1"), ("retrieveBatch", 404, "replay:none")]
    assert (state["strict"], state["exchanges"], state["answered"], state["missed"]) == (True, 3, 1, 1)
    assert state["data"][0]["seq"] == 1 and state["data"][0]["path"] == "/anyapi/v1/batches/batch_rec1"


def test_without_strict_what_the_cassette_lacks_is_simulated_and_journaled_as_such(tmp_path: Path) -> None:
    app = create_app(Settings(response_validation="strict"), replay=str(polls(tmp_path)))
    with TestClient(app) as http:
        client = OpenAI(base_url="http://testserver/anyapi/v1", api_key="k", max_retries=0, http_client=http)
        recorded = client.batches.retrieve("batch_rec1")
        simulated = client.batches.list()
        with pytest.raises(openai.NotFoundError):
            client.batches.retrieve("batch_never_recorded")  # the simulation's own 404
        journal = http.get("/_mock/requests").json()["data"]
        replayed = http.get("/_mock/requests", params={"source": "replay:1"}).json()["data"]
    assert recorded.id == "batch_rec1" and simulated.data == []
    assert [(e["operation"], e["source"]) for e in journal] == [("retrieveBatch", "replay:1"), ("listBatches", None), ("retrieveBatch", None)]
    assert len(replayed) == 1


def test_a_server_without_a_cassette_says_so() -> None:
    with TestClient(create_app(Settings())) as http:
        answer = http.get("/_mock/replay")
    assert answer.status_code == 404 and "--replay" in answer.json()["error"]["message"]


def test_a_broken_cassette_stops_the_server_at_start_naming_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cassette = polls(tmp_path)
    cassette.write_text(cassette.read_text() + '{"seq": 4, "request": {}}\n')
    with pytest.raises(CassetteError, match=r"cassette.jsonl:4: not a cassette line"):
        create_app(Settings(), replay=str(cassette))
    assert main(["serve", "--port", "0", "--replay", str(cassette)]) == 2
    assert "cassette.jsonl:4" in capsys.readouterr().err
    assert main(["serve", "--port", "0", "--replay-strict"]) == 2
    assert "--replay-strict needs --replay" in capsys.readouterr().err


def test_a_body_file_changed_since_recorded_is_refused(tmp_path: Path) -> None:
    big = b'{"data": "' + b"x" * 70_000 + b'"}'
    cassette = write_cassette(tmp_path, [("GET", "/anyapi/v1/files/file-big/content", "", b"", 200, big)])
    body_file = next((tmp_path / "bodies").iterdir())
    with TestClient(create_app(Settings(), replay=str(cassette))) as http:
        assert http.get("/anyapi/v1/files/file-big/content").content == big
    body_file.write_bytes(big.replace(b"x", b"y"))
    with pytest.raises(CassetteError, match="does not match its sha256"):
        create_app(Settings(), replay=str(cassette))
