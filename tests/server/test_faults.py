"""Faults: parsing and its error messages, when a fault fires, what it sends per provider, and how the
SDKs' retries meet it (counted through the journal)."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import openai
import pytest
from openai import OpenAI

from mockserver.config.documents import Document, DocumentError
from mockserver.config.faults import Fault, parse_faults
from mockserver.config.scenarios import load_scenario_file
from mockserver.providers.formant import retry_headers
from mockserver.server.faults import ConnectionDropped
from mockserver.testing.harness import Harness
from tests.conftest import jsonl

BEARER = {"Authorization": "Bearer k"}
PORTKEY = {"x-portkey-api-key": "k", "x-portkey-provider": "openai"}


def faults_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "faults.yaml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(DocumentError) as info:
        load_scenario_file(faults_file(tmp_path, text))
    return str(info.value)


# -- the schema -----------------------------------------------------------------------------------------


def test_a_fault_file_is_parsed_with_defaults() -> None:
    doc = Document(None, "test")
    (fault,) = parse_faults(doc, (), [{"status": 429, "times": 2, "latency": [0.1, 0.2]}])
    assert (fault.provider, fault.operation, fault.status, fault.times, fault.latency) == ("*", "*", 429, 2, (0.1, 0.2))
    assert parse_faults(doc, (), {"drop": True, "latency": 0.5})[0].latency == (0.5, 0.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("faults:\n  - provider: anyapi\n    status: 418\n", "line 3, key 'faults[0].status': expected one of 429, 500, 502, 503, got 418"),
        ("faults:\n  - provider: gemini\n    status: 500\n", "line 2, key 'faults[0].provider': expected one of: *, anyapi, portkey, phaseo, retell, formant, openai, anthropic, got 'gemini'"),
        ("faults:\n  - status: 500\n    retries: 3\n", "line 3, key 'faults[0].retries': unknown key 'retries' (expected one of: provider, operation"),
        ("faults:\n  - provider: anyapi\n", "line 2, key 'faults[0]': expected a fault with at least one of 'status', 'latency' or 'drop: true'"),
        ("faults:\n  - status: 503\n    drop: true\n", "line 2, key 'faults[0]': expected either 'status' or 'drop: true', not both"),
        ("faults:\n  - drop: true\n    retry_after: 2\n", "line 3, key 'faults[0].retry_after': expected 'retry_after' only together with 'status'"),
        ("faults:\n  - latency: [0.5, 0.1]\n", "line 2, key 'faults[0].latency': expected a range [min, max] with min <= max, got [0.5, 0.1]"),
        ("faults:\n  - status: 429\n    probability: 1.5\n", "line 3, key 'faults[0].probability': expected a number between 0 and 1, got 1.5"),
        ("faults:\n  - status: 429\n    times: 0\n", "line 3, key 'faults[0].times': expected an integer >= 1, got 0"),
        ("faults: {status: [}\n", "line 1: not valid YAML"),
    ],
)
def test_a_bad_fault_file_names_the_file_the_line_the_key_and_what_was_expected(tmp_path: Path, text: str, message: str) -> None:
    problem = error_of(tmp_path, text)
    assert problem.startswith(str(tmp_path / "faults.yaml"))
    assert message in problem


def test_an_unknown_operation_is_reported_where_it_was_written(tmp_path: Path, mock_server: Harness) -> None:
    from mockserver.config.baseline import Baseline

    path = faults_file(tmp_path, "faults:\n  - provider: anyapi\n    status: 500\n  - provider: retell\n    operation: getBatch\n    status: 500\n")
    with pytest.raises(DocumentError) as info:
        Baseline.load([path]).install(mock_server.engine, mock_server.providers)
    assert f"{path}, line 5, key 'faults[1].operation': expected an operationId of retell or '*' (" in str(info.value)
    assert "getBatchTest" in str(info.value) and "got 'getBatch'" in str(info.value)


# -- when a fault fires ---------------------------------------------------------------------------------


def hits(fault: Fault, calls: int, seed: int = 0) -> list[int]:
    return [n for n in range(1, calls + 1) if fault.fires(seed)]


def test_times_after_and_every_make_a_schedule() -> None:
    assert hits(Fault(status=429, times=2), 5) == [1, 2]
    assert hits(Fault(status=429, after=3), 5) == [4, 5]
    assert hits(Fault(status=429, every=3), 9) == [3, 6, 9]
    assert hits(Fault(status=429, after=2, every=2, times=2), 10) == [4, 6]


def test_probability_is_deterministic_under_a_seed() -> None:
    first = hits(Fault(status=500, probability=0.3, id="fault_1"), 200, seed=1)
    again = hits(Fault(status=500, probability=0.3, id="fault_1"), 200, seed=1)
    other = hits(Fault(status=500, probability=0.3, id="fault_1"), 200, seed=2)
    assert first == again != other
    assert 30 < len(first) < 90


def test_the_first_matching_fault_that_fires_answers(mock_server: Harness) -> None:
    mock_server.add_faults(
        {"provider": "anyapi", "operation": "listBatches", "status": 503, "times": 1},
        {"provider": "*", "status": 500, "times": 1},
    )
    url = mock_server.base_url("anyapi") + "/batches"
    assert [httpx.get(url, headers=BEARER).status_code for _ in range(3)] == [503, 500, 200]
    assert [(e.status, e.fault) for e in mock_server.requests()] == [(503, "fault_1"), (500, "fault_2"), (200, None)]


# -- what a fault sends ---------------------------------------------------------------------------------


def test_a_429_carries_retry_after_and_the_providers_envelope(mock_server: Harness) -> None:
    mock_server.add_faults({"status": 429, "retry_after": 0.25})
    anyapi = httpx.get(mock_server.base_url("anyapi") + "/batches", headers=BEARER)
    assert anyapi.status_code == 429
    assert (anyapi.headers["retry-after"], anyapi.headers["retry-after-ms"], anyapi.headers["x-mock-fault"]) == ("1", "250", "fault_1")
    assert anyapi.json()["error"]["code"] == 429 and anyapi.json()["error"]["type"] == "rate_limit_exceeded"
    portkey = httpx.get(mock_server.base_url("portkey") + "/batches", headers=PORTKEY)
    assert portkey.json()["provider"] == "openai" and portkey.json()["error"]["type"] == "rate_limit_error"
    assert portkey.headers["x-ratelimit-remaining-requests"] == "0" and portkey.headers["x-ratelimit-reset-requests"] == "250ms"
    phaseo = httpx.get(mock_server.base_url("phaseo") + "/batches", headers=BEARER)
    assert phaseo.json()["error"] == "rate_limit_error" and phaseo.json()["status_code"] == 429
    retell = httpx.get(mock_server.base_url("retell") + "/get-batch-test/x", headers=BEARER)
    assert retell.json()["status"] == "error" and retell.headers["retry-after-ms"] == "250"
    formant = httpx.get(mock_server.base_url("formant") + "/v1/batch-calls", headers=BEARER)
    assert formant.json()["error"]["type"] == "rate_limit_exceeded"
    assert formant.headers["retry-after"] == "1" and formant.headers["x-ratelimit-remaining"] == "0"
    assert "retry-after-ms" not in formant.headers  # FormantAI documents whole seconds only
    assert list(mock_server.engine.violations) == []


def test_formant_rate_limit_reset_is_an_iso_time_on_the_simulated_clock() -> None:
    headers = retry_headers(60, now=1_700_000_000)
    assert headers == {"Retry-After": "60", "X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2023-11-14T22:14:20+00:00"}


@pytest.mark.mockserver(faults=[{"provider": "anyapi", "operation": "retrieveBatch", "status": 502}, {"provider": "anyapi", "operation": "listBatches", "status": 503, "retry_after": 2}])
def test_undeclared_502_and_503_are_not_spec_violations(mock_server: Harness) -> None:
    assert mock_server.engine.settings.response_validation == "strict"
    bad_gateway = httpx.get(mock_server.base_url("anyapi") + "/batches/batch_x", headers=BEARER)
    unavailable = httpx.get(mock_server.base_url("anyapi") + "/batches", headers=BEARER)
    assert (bad_gateway.status_code, unavailable.status_code) == (502, 503)
    assert unavailable.headers["retry-after"] == "2" and "retry-after" not in bad_gateway.headers
    assert list(mock_server.engine.violations) == []


def test_latency_delays_the_call_and_lets_it_through(mock_server: Harness) -> None:
    mock_server.add_faults({"provider": "anyapi", "operation": "listBatches", "latency": 0.15, "times": 1})
    started = time.monotonic()
    response = httpx.get(mock_server.base_url("anyapi") + "/batches", headers=BEARER)
    assert response.status_code == 200 and time.monotonic() - started >= 0.15
    assert mock_server.requests()[0].fault is None  # the handler answered


def test_a_latency_fault_does_not_hide_the_faults_after_it(mock_server: Harness) -> None:
    mock_server.add_faults({"latency": 0.05}, {"provider": "anyapi", "operation": "listBatches", "status": 500, "times": 1})
    started = time.monotonic()
    response = httpx.get(mock_server.base_url("anyapi") + "/batches", headers=BEARER)
    assert response.status_code == 500 and time.monotonic() - started >= 0.05
    assert httpx.get(mock_server.base_url("anyapi") + "/batches", headers=BEARER).status_code == 200


# -- dropped connections --------------------------------------------------------------------------------


def test_a_dropped_connection_sends_no_response_and_is_journaled(mock_server: Harness) -> None:
    mock_server.add_faults({"provider": "anyapi", "operation": "listBatches", "drop": True, "times": 1})
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        httpx.get(mock_server.base_url("anyapi") + "/batches", headers=BEARER)
    assert httpx.get(mock_server.base_url("anyapi") + "/batches", headers=BEARER).status_code == 200
    assert [(e.status, e.fault) for e in mock_server.requests()] == [(0, "fault_1"), (200, None)]


def test_the_openai_sdk_retries_a_dropped_connection(mock_server: Harness) -> None:
    mock_server.add_faults({"provider": "anyapi", "operation": "listBatches", "drop": True, "times": 1})
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="k", max_retries=1)
    assert client.batches.list().data == []
    assert [e.status for e in mock_server.requests(operation="listBatches")] == [0, 200]


@pytest.mark.mockserver(faults=[{"provider": "anyapi", "drop": True}])
def test_in_process_a_drop_is_an_httpx_transport_error(mock_app: Any) -> None:
    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=mock_app), base_url="http://mockserver") as client:
            return await client.get("/anyapi/v1/batches", headers=BEARER)

    with pytest.raises(ConnectionDropped) as info:
        anyio.run(get)
    assert isinstance(info.value, httpx.TransportError)


# -- the SDKs' retries meet the faults honestly ---------------------------------------------------------


def test_the_openai_sdk_retries_429s_after_retry_after_ms_then_succeeds(mock_server: Harness) -> None:
    mock_server.add_faults({"provider": "anyapi", "operation": "createFile", "status": 429, "retry_after": 0.1, "times": 2})
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="k")
    started = time.monotonic()
    file = client.files.create(file=("in.jsonl", io.BytesIO(jsonl(2))), purpose="batch")
    assert file.id.startswith("file-")
    assert 0.2 <= time.monotonic() - started < 2.0  # two waits of 100 ms, not the SDK's own back-off
    assert [e.status for e in mock_server.requests(operation="createFile")] == [429, 429, 200]


def test_more_429s_than_retries_reach_the_caller(mock_server: Harness) -> None:
    mock_server.add_faults({"provider": "anyapi", "operation": "listBatches", "status": 429, "retry_after": 0.05, "times": 5})
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="k", max_retries=2)
    with pytest.raises(openai.RateLimitError) as info:
        client.batches.list()
    assert info.value.response.headers["x-mock-fault"] == "fault_1"
    assert len(mock_server.requests(operation="listBatches")) == 3


def test_x_should_retry_true_makes_the_sdk_retry_a_500_without_waiting_long(mock_server: Harness) -> None:
    mock_server.add_faults({"provider": "anyapi", "operation": "listBatches", "status": 500, "retry_after": 0.05, "should_retry": True, "times": 1})
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="k")
    client.batches.list()
    assert [e.status for e in mock_server.requests(operation="listBatches")] == [500, 200]


def test_faults_are_deterministic_under_the_seed(mock_server: Harness) -> None:
    client = httpx.Client(base_url=mock_server.base_url("anyapi"), headers=BEARER)

    def run() -> list[int]:
        mock_server.reset()
        mock_server.add_faults({"provider": "anyapi", "operation": "listBatches", "status": 503, "probability": 0.5})
        return [client.get("/batches").status_code for _ in range(12)]

    assert run() == run()
    assert set(run()) == {200, 503}
