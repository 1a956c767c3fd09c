"""Fixture files: each seed's example retrieve answers right after start, reset reloads them, OpenAI-family
batches preload in any status with a consistent lifecycle, and mistakes are reported where they are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI

from mockserver import cli
from mockserver.config.documents import DocumentError
from mockserver.config.fixtures import check_fixtures, load_fixture_file, seeder
from mockserver.testing.harness import Harness

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SEEDS = str(FIXTURES / "seed_examples.yaml")
BEARER = {"Authorization": "Bearer any-key"}
PORTKEY = {"x-portkey-api-key": "any-key", "x-portkey-provider": "openai"}

FORMANT_SEED_BODY = {  # /work/shared/seeds/000: the example response, exactly
    "data": {
        "avg_duration_seconds": 45.7, "busy_count": 12, "completed_count": 150, "failed_count": 8, "in_progress_count": 5,
        "no_answer_count": 20, "pending_retry_count": 3, "socket_failure_count": 2, "success_count": 140, "success_rate": 0.87,
        "total_processed": 180, "unreachable_count": 10,
    }
}

# the fields each seed's example shows (001 AnyAPI, 003 Portkey, 004 Phaseo, 002 Retell)
ANYAPI_SEED_KEYS = {
    "id", "object", "endpoint", "input_file_id", "completion_window", "status", "output_file_id", "error_file_id", "created_at",
    "in_progress_at", "expires_at", "finalizing_at", "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at",
    "request_counts", "metadata",
}
PHASEO_SEED_EXTRAS = {"request_id", "provider", "session_id", "webhook", "pricing_lines", "billing"}
RETELL_SEED_KEYS = {
    "test_case_batch_job_id", "status", "response_engine", "pass_count", "fail_count", "error_count", "total_count",
    "creation_timestamp", "user_modified_timestamp",
}


def get(mock_server: Harness, provider: str, path: str, headers: dict[str, str] = BEARER) -> Any:
    response = httpx.get(mock_server.base_url(provider) + path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def seed_bodies(mock_server: Harness) -> list[Any]:
    return [
        get(mock_server, "anyapi", "/batches/batch_seed_anyapi"),
        get(mock_server, "portkey", "/batches/batch_seed_portkey", PORTKEY),
        get(mock_server, "phaseo", "/batches/batch_seed_phaseo"),
        get(mock_server, "retell", "/get-batch-test/test_batch_seed_retell"),
        get(mock_server, "formant", "/v1/batch-calls/1/metrics"),
    ]


# -- the seeds' examples --------------------------------------------------------------------------------


@pytest.mark.mockserver(fixtures=[SEEDS])
def test_each_seeds_example_retrieve_answers_right_after_start(mock_server: Harness) -> None:
    anyapi, portkey, phaseo, retell, formant = seed_bodies(mock_server)
    assert formant == FORMANT_SEED_BODY
    assert set(anyapi) == ANYAPI_SEED_KEYS
    assert anyapi["status"] == "completed" and anyapi["request_counts"] == {"total": 4, "completed": 3, "failed": 1}
    assert anyapi["output_file_id"] and anyapi["error_file_id"]
    assert portkey["id"] == "batch_seed_portkey" and portkey["errors"] is None and portkey["output_file_id"]
    assert PHASEO_SEED_EXTRAS <= set(phaseo)
    hook = {k: phaseo["webhook"][k] for k in ("url", "events", "has_secret")}
    assert hook == {"url": "https://example.com/hooks/ai-stats", "events": ["batch.completed", "batch.failed", "batch.expired"], "has_secret": True}
    assert phaseo["webhook"]["delivery"]["total_attempts"] == 0  # a fixture's batch shows its webhook, announces nothing
    assert phaseo["billing"]["billed"] is True and phaseo["request_id"] == "G-01JH3M2Q8Z6W4V7XK5R9T0ABCE"
    assert set(retell) == RETELL_SEED_KEYS
    assert (retell["status"], retell["pass_count"], retell["fail_count"], retell["total_count"]) == ("complete", 1, 1, 2)
    assert list(mock_server.engine.violations) == []


@pytest.mark.mockserver(fixtures=[SEEDS])
def test_every_api_key_sees_the_fixtures_and_reset_reloads_them(mock_server: Harness) -> None:
    before = seed_bodies(mock_server)
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="another-key")
    assert client.batches.retrieve("batch_seed_anyapi").status == "completed"
    client.batches.list()
    mock_server.reset()
    mock_server.reset()  # the marker's fixtures are this test's start-up state until it ends
    assert seed_bodies(mock_server) == before


def test_serve_preloads_fixture_files(monkeypatch: pytest.MonkeyPatch) -> None:
    started: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: started.setdefault("app", app))
    assert cli.main(["serve", "--fixtures", SEEDS]) == 0
    engine = started["app"].state.engine
    assert engine.backend("formant", "k").batches[1].metrics_override == FORMANT_SEED_BODY["data"]
    assert engine.backend("anyapi", "k").batches["batch_seed_anyapi"].state == "completed"


# -- OpenAI-family batches in any status ----------------------------------------------------------------


def preload(mock_server: Harness, data: dict[str, Any], provider: str = "anyapi", kind: str = "batch") -> Any:
    backend = mock_server.engine.backend(provider, "k")
    backend.load_fixture(kind, data)
    return backend


def test_a_completed_batch_has_the_output_and_error_files_its_counts_imply(mock_server: Harness) -> None:
    preload(mock_server, {"id": "b1", "status": "completed", "request_counts": {"total": 5, "completed": 3, "failed": 2}})
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="k")
    batch = client.batches.retrieve("b1")
    assert batch.status == "completed" and batch.completed_at >= batch.finalizing_at >= batch.in_progress_at >= batch.created_at
    assert len(client.files.content(batch.output_file_id).text.splitlines()) == 3
    assert len(client.files.content(batch.error_file_id).text.splitlines()) == 2


def test_an_expired_batch_has_batch_expired_lines_for_what_did_not_run(mock_server: Harness) -> None:
    preload(mock_server, {"id": "b2", "status": "expired", "request_counts": {"total": 4, "completed": 1, "failed": 0}})
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="k")
    batch = client.batches.retrieve("b2")
    assert batch.status == "expired" and batch.expired_at == batch.expires_at
    errors = [json.loads(line) for line in client.files.content(batch.error_file_id).text.splitlines()]
    assert [e["error"]["code"] for e in errors] == ["batch_expired"] * 3
    assert len(client.files.content(batch.output_file_id).text.splitlines()) == 1


def test_an_in_progress_batch_shows_its_counts_and_moves_on_with_the_clock(mock_server: Harness) -> None:
    preload(mock_server, {"id": "b3", "status": "in_progress", "request_counts": {"total": 10, "completed": 4, "failed": 0}})
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="k")
    batch = client.batches.retrieve("b3")
    assert (batch.status, batch.request_counts.completed) == ("in_progress", 4)
    mock_server.clock.advance(60)
    batch = client.batches.retrieve("b3")
    assert (batch.status, batch.request_counts.completed) == ("completed", 10)


def test_a_failed_batch_has_its_validation_errors(mock_server: Harness) -> None:
    preload(mock_server, {"id": "b4", "status": "failed", "errors": [{"code": "invalid_json_line", "message": "bad", "line": 2}]})
    batch = httpx.get(mock_server.base_url("portkey") + "/batches/b4", headers={**PORTKEY, "x-portkey-api-key": "k"})
    assert batch.status_code == 404  # another provider's namespace
    body = get(mock_server, "anyapi", "/batches/b4", {"Authorization": "Bearer k"})
    assert body["status"] == "failed" and body["failed_at"] is not None and body["request_counts"]["total"] == 0


def test_cancelled_follows_the_dialect(mock_server: Harness) -> None:
    preload(mock_server, {"id": "c1", "status": "cancelled"})
    preload(mock_server, {"id": "c2", "status": "cancelled"}, provider="portkey")
    anyapi = get(mock_server, "anyapi", "/batches/c1", {"Authorization": "Bearer k"})
    portkey = get(mock_server, "portkey", "/batches/c2", {**PORTKEY, "x-portkey-api-key": "k"})
    assert anyapi["cancelling_at"] is None and anyapi["cancelled_at"] is not None  # AnyAPI cancels at once
    assert portkey["cancelling_at"] is not None and portkey["cancelled_at"] >= portkey["cancelling_at"]


def test_files_inputs_and_explicit_output_lines(mock_server: Harness) -> None:
    line = {"custom_id": "x", "method": "POST", "url": "/v1/embeddings", "body": {"model": "text-embedding-3-small", "input": "hi"}}
    preload(mock_server, {"id": "file-in", "filename": "in.jsonl", "lines": [line]}, kind="file")
    record = {"id": "batch_req_1", "custom_id": "x", "response": {"status_code": 200, "request_id": "r", "body": {"object": "list"}}, "error": None}
    preload(mock_server, {"id": "b5", "endpoint": "/v1/embeddings", "input_file_id": "file-in", "status": "completed", "output_lines": [record]})
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="k")
    batch = client.batches.retrieve("b5")
    assert batch.input_file_id == "file-in" and client.files.retrieve("file-in").filename == "in.jsonl"
    assert [json.loads(x) for x in client.files.content(batch.output_file_id).text.splitlines()] == [record]


def test_a_fixture_for_one_api_key_stays_in_that_namespace(tmp_path: Path, mock_server: Harness) -> None:
    path = tmp_path / "one.yaml"
    path.write_text("fixtures:\n  - {provider: anyapi, kind: batch, api_key: alice, data: {id: b_alice, status: completed}}\n")
    mock_server.engine.seeders.add(seeder(check_fixtures(load_fixture_file(path), mock_server.engine)))
    assert get(mock_server, "anyapi", "/batches/b_alice", {"Authorization": "Bearer alice"})["status"] == "completed"
    assert httpx.get(mock_server.base_url("anyapi") + "/batches/b_alice", headers={"Authorization": "Bearer bob"}).status_code == 404


# -- mistakes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{provider: anyapi, kind: batchh, data: {}}", "line 3, key 'fixtures[1]': anyapi batchh: expected data the backend can load: unknown kind 'batchh' (expected file or batch)"),
        ("{provider: anyapi, kind: batch, data: {status: done}}", "line 3, key 'fixtures[1]': anyapi batch: expected data the backend can load: batch: status must be one of validating,"),
        ("{provider: anyapi, kind: batch, data: {status: completed, request_counts: 5}}", "batch: request_counts must map total/completed/failed to whole numbers"),
        ("{provider: anyapi, kind: batch, data: {metadata: notadict}}", "batch: metadata must map strings to strings"),
        ("{provider: anyapi, kind: batch, data: {id: 5}}", "batch: id must be a string, got 5"),
        ("{provider: formant, kind: batch_call, data: {id: 9, name: n, agent_id: 1, status: completed, metrics: {success_rate: x}}}", "metrics.success_rate must be a number >= 0"),
        ("{provider: anyapi, kind: batch, data: {status: completed, request_counts: {total: 3, completed: 1}}}", "completed + failed must be 3, got 1"),
        ("{provider: anyapi, kind: batch, data: {input_file_id: file-nope}}", "input_file_id 'file-nope' is not a file loaded before this batch"),
        ("{provider: anyapi, kind: batch, data: {status: in_progress, output_lines: []}}", "'output_lines' needs a status with results"),
        ("{provider: anyapi, kind: batch, data: {colour: red}}", "batch: unknown key 'colour'"),
        ("{provider: gemini, kind: batch, data: {}}", "line 3, key 'fixtures[1].provider': expected one of: anyapi, portkey, phaseo, retell, formant, openai, anthropic, got 'gemini'"),
        ("{provider: anthropic, kind: message_batch, data: {id: msgbatch_1, processing_status: done}}", "anthropic fixture message_batch: processing_status must be one of in_progress, canceling, ended"),
        ("{provider: anyapi, kind: batch}", "line 3, key 'fixtures[1]': expected a fixture with 'data'"),
        ("{provider: retell, kind: batch_test, data: {status: complete}}", "retell batch_test: expected data the backend can load: retell fixture batch_test: missing"),
        ("{provider: formant, kind: batch_call, data: {id: 1, name: n, agent_id: 1, status: paused}}", "formant fixture batch_call: status must be one of"),
    ],
)
def test_a_bad_fixture_file_names_the_file_the_line_and_what_was_expected(tmp_path: Path, mock_server: Harness, entry: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"fixtures:\n  - {{provider: anyapi, kind: file, data: {{id: file-ok, content: ''}}}}\n  - {entry}\n")
    with pytest.raises(DocumentError) as info:
        check_fixtures(load_fixture_file(path), mock_server.engine)
    assert str(info.value).startswith(f"{path}, line ")
    assert message in str(info.value)
    assert list(mock_server.engine.journal) == [] and list(mock_server.engine.store.namespaces()) == []  # checked aside


def test_a_bad_fixture_file_stops_serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("fixtures:\n  - provider: anyapi\n    kind: batch\n    data: {status: done}\n")
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("must not serve"))
    assert cli.main(["serve", "--fixtures", str(path)]) == 2
    assert f"{path}, line 2, key 'fixtures[0]': anyapi batch: expected data the backend can load: batch: status must be one of" in capsys.readouterr().err
