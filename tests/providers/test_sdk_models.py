"""Every answer of every provider, held to the official SDKs' own models in pydantic's strict mode.

For each provider a flow calls every operation its spec serves (``GET /_mock/providers`` says which) and every
JSON answer is validated with the model the provider's official SDK casts it to; for the OpenAI-compatible
providers every line of every output and error file (and Portkey's ``/output``) is validated too: the line's
``response.body`` with the model of its endpoint (``Response``, ``ChatCompletion``, ``ModerationCreateResponse``
…), an error line's ``response.body.error`` with ``ErrorObject`` and its ``error`` with ``BatchError``. A field
the SDK requires and the fake omits, or a value of the wrong type (strict: no coercion), fails here.

What a provider documents that typed clients cannot parse is asserted as such (Phaseo's status words, AnyAPI's
3-field cancel body), together with the switch that gives the upstream's shape. FormantAI publishes no SDK
(PROVIDERS.md: clients send raw HTTP): the strict live server holds its answers to specs/formant.yaml in its tests.

No Node check: openai-node and retell-sdk for Node validate nothing at run time (their models are TypeScript
types, erased when compiled), so a Node client accepts whatever these Python models accept, and more.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai.types as oai
import pytest
import yaml
from openai.types.chat import ChatCompletion
from openai.types.responses import Response
from openai.types.shared import ErrorObject
from portkey_ai.api_resources.types import batches_type, main_file_type
from pydantic import TypeAdapter, ValidationError
from retell import types as rt
from retell.types.call_response import CallResponse
from starlette.testclient import TestClient

from mockserver.core.settings import Settings
from mockserver.server.app import create_app
from mockserver.server.live import LiveServer
from tests.conftest import jsonl

SPECS = Path(__file__).resolve().parents[2] / "specs"

# the model each endpoint's answer is parsed into by the openai SDK
LINE_MODELS: dict[str, Any] = {
    "/v1/chat/completions": ChatCompletion, "/v1/completions": oai.Completion, "/v1/embeddings": oai.CreateEmbeddingResponse,
    "/v1/responses": Response, "/v1/moderations": oai.ModerationCreateResponse, "/v1/images/generations": oai.ImagesResponse,
    "/v1/images/edits": oai.ImagesResponse, "/v1/videos": oai.Video,
}

# operationId -> [(model, where)]: "" the whole answer, "data[]" each item of data (the SDKs' list pages)
OPENAI_ANSWERS: dict[str, list[tuple[Any, str]]] = {
    "createFile": [(oai.FileObject, "")], "retrieveFile": [(oai.FileObject, "")], "listFiles": [(oai.FileObject, "data[]")],
    "deleteFile": [(oai.FileDeleted, "")], "createBatch": [(oai.Batch, "")], "retrieveBatch": [(oai.Batch, "")],
    "listBatches": [(oai.Batch, "data[]")], "cancelBatch": [(oai.Batch, "")],
}
PORTKEY_ANSWERS: dict[str, list[tuple[Any, str]]] = {
    op: [*models, *extra] for op, models in OPENAI_ANSWERS.items() for extra in [{
        "createFile": [(main_file_type.FileObject, "")], "retrieveFile": [(main_file_type.FileObject, "")],
        "listFiles": [(main_file_type.FileList, "")], "deleteFile": [(main_file_type.FileDeleted, "")],
        "createBatch": [(batches_type.Batch, "")], "retrieveBatch": [(batches_type.Batch, "")],
        "listBatches": [(batches_type.BatchList, "")], "cancelBatch": [(batches_type.Batch, "")],
    }[op]]
}
RETELL_ANSWERS: dict[str, list[tuple[Any, str]]] = {
    "createTestCaseDefinition": [(rt.TestCaseDefinitionResponse, "")], "getTestCaseDefinition": [(rt.TestCaseDefinitionResponse, "")],
    "updateTestCaseDefinition": [(rt.TestCaseDefinitionResponse, "")],
    "listTestCaseDefinitions": [(rt.TestListTestCaseDefinitionsResponse, "")],
    "createBatchTest": [(rt.BatchTestResponse, "")], "getBatchTest": [(rt.BatchTestResponse, "")],
    "listBatchTests": [(rt.TestListBatchTestsResponse, "")], "listTestRuns": [(rt.TestListTestRunsResponse, "")],
    "getTestRun": [(rt.TestCaseJobResponse, "")], "createBatchCall": [(rt.BatchCallResponse, "")],
    "listCalls": [(rt.CallListResponse, "")], "getCall": [(CallResponse, "")],
}

_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def strict_problem(model: Any, value: Any) -> str | None:
    """None if ``value`` validates as ``model`` in strict mode, else the SDK's complaint."""
    adapter = _ADAPTERS.setdefault(model, TypeAdapter(model))
    try:
        adapter.validate_python(value, strict=True)
    except ValidationError as exc:
        return f"{getattr(model, '__name__', model)}: {exc}"
    return None


class Recorder:
    """An HTTP client that keeps every answer by operationId, so each can be held to its SDK model."""

    def __init__(self, client: httpx.Client | TestClient) -> None:
        self.client = client
        self.answers: list[tuple[str, int, Any]] = []

    def __call__(self, operation: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)
        is_json = response.headers.get("content-type", "").startswith("application/json")
        self.answers.append((operation, response.status_code, response.json() if is_json else None))
        return response

    def succeeded(self) -> set[str]:
        return {op for op, status, _ in self.answers if 200 <= status < 300}

    def problems(self, models: dict[str, list[tuple[Any, str]]], skip: frozenset[str] = frozenset()) -> list[str]:
        found = []
        for op, status, body in self.answers:
            if not 200 <= status < 300 or body is None or op in skip:
                continue
            for model, where in models[op]:
                values = body.get("data") if where == "data[]" else [body]
                for value in values:
                    problem = strict_problem(model, value)
                    if problem:
                        found.append(f"{op}: {problem}")
        return found


def served(live: LiveServer, provider: str) -> set[str]:
    """The operations the provider's spec serves (each has a handler), as the admin API lists them."""
    listing = httpx.get(f"{live.url}/_mock/providers").json()["data"]
    return set(next(p for p in listing if p["name"] == provider)["operations"])


def accepted_endpoints(provider: str) -> list[str]:
    spec = yaml.safe_load((SPECS / f"{provider}.yaml").read_text())
    enum = spec["components"]["schemas"]["CreateBatchRequest"]["properties"]["endpoint"]["enum"]
    return [e for e in enum if e.startswith("/v1/")]


def line_problems(content: str, endpoint: str) -> list[str]:
    """Each line of a result file against the SDK's models; every line must be a whole result line."""
    found = []
    for n, raw in enumerate(content.splitlines(), start=1):
        line = json.loads(raw)
        if not (isinstance(line.get("id"), str) and isinstance(line.get("custom_id"), str) and "response" in line and "error" in line):
            found.append(f"{endpoint} line {n}: not a batch result line: {raw[:200]}")
            continue
        if line["error"] is not None:
            problem = strict_problem(oai.BatchError, line["error"])
        elif line["response"]["status_code"] == 200:
            problem = strict_problem(LINE_MODELS[endpoint], line["response"]["body"])
        else:
            problem = strict_problem(ErrorObject, line["response"]["body"]["error"])
        if problem:
            found.append(f"{endpoint} line {n}: {problem}")
    return found


HEADERS = {
    "anyapi": {"Authorization": "Bearer sk-sdk"},
    "portkey": {"x-portkey-api-key": "pk-sdk", "x-portkey-provider": "openai"},
    "phaseo": {"Authorization": "Bearer aistats_v1_sk_sdk_models"},
    "openai": {"Authorization": "Bearer sk-sdk-models"},
}


def openai_family_flow(call: Recorder, provider: str, endpoints: list[str], advance: Any) -> tuple[list[str], int]:
    """Every operation of an OpenAI-compatible provider, a batch per accepted endpoint (30% of its lines failing),
    and one cancelled while running; returns the problems of its result lines and how many lines were read."""
    metadata = {"mock_scenario": "partial_failure"}
    if provider == "phaseo":
        metadata["mock_phaseo_status"] = "upstream"  # Phaseo's documented words are tested below
    batches = []
    for endpoint in endpoints:
        file = call("createFile", "POST", "/files", data={"purpose": "batch"}, files={"file": ("in.jsonl", io.BytesIO(jsonl(8, url=endpoint)))})
        assert file.status_code == 200, file.text
        batch = call("createBatch", "POST", "/batches", json={"input_file_id": file.json()["id"], "endpoint": endpoint,
                                                              "completion_window": "24h", "metadata": metadata})
        assert batch.status_code == 200, batch.text
        batches.append((endpoint, batch.json()["id"]))
    stopped_file = call("createFile", "POST", "/files", data={"purpose": "batch"}, files={"file": ("in.jsonl", io.BytesIO(jsonl(40)))})
    stopped = call("createBatch", "POST", "/batches", json={"input_file_id": stopped_file.json()["id"], "endpoint": "/v1/chat/completions",
                                                            "completion_window": "24h", "metadata": {**metadata, "mock_scenario": "stall"}})
    advance(2)
    assert call("cancelBatch", "POST", f"/batches/{stopped.json()['id']}/cancel").status_code == 200  # AnyAPI's: see below
    batches.append(("/v1/chat/completions", stopped.json()["id"]))
    advance(120)
    problems, read = [], 0
    for endpoint, batch_id in batches:
        done = call("retrieveBatch", "GET", f"/batches/{batch_id}").json()
        assert done["status"] in ("completed", "cancelled"), done
        for role in ("output_file_id", "error_file_id"):
            if done.get(role):
                assert call("retrieveFile", "GET", f"/files/{done[role]}").status_code == 200
                content = call("downloadFile", "GET", f"/files/{done[role]}/content").text
                problems += line_problems(content, endpoint)
                read += content.count("\n")
        if provider == "portkey" and done.get("output_file_id"):
            output = call("getBatchOutput", "GET", f"/batches/{batch_id}/output")
            problems += line_problems(output.text, endpoint)
    assert call("listBatches", "GET", "/batches", params={"limit": 100}).status_code == 200
    if provider != "anyapi":
        assert call("listFiles", "GET", "/files").status_code == 200
    if provider in ("portkey", "openai"):
        assert call("deleteFile", "DELETE", f"/files/{stopped_file.json()['id']}").status_code == 200
    return problems, read


@pytest.fixture
def http(frozen_server: LiveServer) -> Iterator[tuple[LiveServer, dict[str, httpx.Client]]]:
    clients = {name: httpx.Client(base_url=frozen_server.base_url(name), headers=headers, timeout=30) for name, headers in HEADERS.items()}
    clients["retell"] = httpx.Client(base_url=frozen_server.base_url("retell"), headers={"Authorization": "Bearer key_sdk"}, timeout=30)
    yield frozen_server, clients
    for client in clients.values():
        client.close()


@pytest.mark.parametrize("provider", ["openai", "anyapi", "portkey", "phaseo"])
def test_every_answer_and_result_line_parses_in_the_openai_sdk_strictly(http: tuple[LiveServer, dict[str, httpx.Client]], provider: str) -> None:
    server, clients = http
    call = Recorder(clients[provider])
    endpoints = accepted_endpoints(provider)
    line_issues, lines_read = openai_family_flow(call, provider, endpoints, server.engine.clock.advance)
    assert call.succeeded() == served(server, provider), "every operation the provider serves is exercised"
    assert lines_read >= 8 * len(endpoints)
    assert line_issues == []
    skip = frozenset({"cancelBatch"} if provider == "anyapi" else ())
    assert call.problems(PORTKEY_ANSWERS if provider == "portkey" else OPENAI_ANSWERS, skip) == []
    # an endpoint OpenAI's Batch API has but the provider's docs refuse stays a 400 in the provider's envelope
    for endpoint in set(LINE_MODELS) - set(endpoints):
        refused = clients[provider].post("/batches", json={"input_file_id": "file-x", "endpoint": endpoint, "completion_window": "24h"})
        assert refused.status_code == 400 and "error" in refused.json()


def test_the_result_lines_hold_failures_of_both_kinds(http: tuple[LiveServer, dict[str, httpx.Client]]) -> None:
    """The flow above reads error lines of both shapes (a failed request, a request never run), not only successes."""
    server, clients = http
    call = Recorder(clients["portkey"])
    openai_family_flow(call, "portkey", ["/v1/responses"], server.engine.clock.advance)
    kinds = set()
    batches = clients["portkey"].get("/batches", params={"limit": 100}).json()["data"]
    for batch in batches:
        if batch.get("error_file_id"):
            for raw in clients["portkey"].get(f"/files/{batch['error_file_id']}/content").text.splitlines():
                line = json.loads(raw)
                kinds.add("not run" if line["error"] else "failed")
    assert kinds == {"not run", "failed"}


def test_phaseo_documented_status_words_break_only_the_status_of_a_typed_batch(http: tuple[LiveServer, dict[str, httpx.Client]]) -> None:
    """queued / processing (Phaseo's docs) are not in the openai SDK's Batch.status Literal: strict parsing fails
    on that field alone; metadata mock_phaseo_status (or --phaseo-status upstream) sends the OpenAI words."""
    server, clients = http
    phaseo = clients["phaseo"]
    file = phaseo.post("/files", data={"purpose": "batch"}, files={"file": ("in.jsonl", io.BytesIO(jsonl(2)))}).json()
    documented = phaseo.post("/batches", json={"input_file_id": file["id"], "endpoint": "/v1/chat/completions"}).json()
    upstream = phaseo.post("/batches", json={"input_file_id": file["id"], "endpoint": "/v1/chat/completions",
                                             "metadata": {"mock_phaseo_status": "upstream"}}).json()
    assert (documented["status"], upstream["status"]) == ("queued", "validating")
    with pytest.raises(ValidationError) as broken:
        TypeAdapter(oai.Batch).validate_python(documented, strict=True)
    assert [e["loc"] for e in broken.value.errors()] == [("status",)]
    assert strict_problem(oai.Batch, upstream) is None
    server.engine.clock.advance(1.5)
    assert phaseo.get(f"/batches/{documented['id']}").json()["status"] == "processing"
    assert phaseo.get(f"/batches/{upstream['id']}").json()["status"] == "in_progress"
    refused = phaseo.post("/batches", json={"input_file_id": file["id"], "endpoint": "/v1/chat/completions",
                                            "metadata": {"mock_phaseo_status": "openai"}})
    assert refused.status_code == 400 and refused.json()["error"] == "validation_error"
    server.engine.scenarios.replace_all({"typed": {"phaseo_status": "upstream"}}, None)  # a scenario file's phaseo_status
    try:
        by_header = phaseo.post("/batches", headers={"X-Mock-Scenario": "typed"}, json={"input_file_id": file["id"], "endpoint": "/v1/chat/completions"})
        by_metadata = phaseo.post("/batches", json={"input_file_id": file["id"], "endpoint": "/v1/chat/completions", "metadata": {"mock_scenario": "typed"}})
        assert by_header.json()["status"] == by_metadata.json()["status"] == "validating"
    finally:
        server.engine.scenarios.replace_all({}, None)


def test_anyapi_cancel_body_is_three_fields_by_default_and_a_whole_batch_with_anyapi_cancel_full() -> None:
    def cancel(settings: Settings) -> dict[str, Any]:
        with TestClient(create_app(settings), base_url="http://testserver/anyapi/v1", headers=HEADERS["anyapi"]) as client:
            file = client.post("/files", data={"purpose": "batch"}, files={"file": ("in.jsonl", io.BytesIO(jsonl(2)))}).json()
            batch = client.post("/batches", json={"input_file_id": file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"})
            answer: dict[str, Any] = client.post(f"/batches/{batch.json()['id']}/cancel").json()
            return answer

    documented = cancel(Settings(response_validation="strict"))
    assert documented == {"id": documented["id"], "object": "batch", "status": "cancelled"}
    assert strict_problem(oai.Batch, documented) is not None  # typed clients cannot parse AnyAPI's documented answer
    full = cancel(Settings(response_validation="strict", anyapi_cancel="full"))
    assert full["status"] == "cancelled" and strict_problem(oai.Batch, full) is None


LLM = {"type": "retell-llm", "llm_id": "llm_sdk_models", "version": 1}


def test_every_retell_answer_parses_in_retell_sdk_strictly(http: tuple[LiveServer, dict[str, httpx.Client]]) -> None:
    server, clients = http
    call = Recorder(clients["retell"])
    definition = call("createTestCaseDefinition", "POST", "/create-test-case-definition", json={
        "name": "greets", "response_engine": LLM, "user_prompt": "Say hello.", "metrics": ["The agent greets"],
        "dynamic_variables": {"name": "Ada"}})
    assert definition.status_code == 201, definition.text
    definition_id = definition.json()["test_case_definition_id"]
    assert call("getTestCaseDefinition", "GET", f"/get-test-case-definition/{definition_id}").status_code == 200
    assert call("updateTestCaseDefinition", "PUT", f"/update-test-case-definition/{definition_id}", json={"name": "greets 2"}).status_code == 200
    assert call("listTestCaseDefinitions", "GET", "/v2/list-test-case-definitions", params={"type": "retell-llm"}).status_code == 200
    batch = call("createBatchTest", "POST", "/create-batch-test", json={"response_engine": LLM, "test_case_definition_ids": [definition_id]})
    assert batch.status_code == 201, batch.text
    batch_id = batch.json()["test_case_batch_job_id"]
    batch_call = call("createBatchCall", "POST", "/create-batch-call", json={
        "from_number": "+14157774444", "name": "Reminders", "tasks": [{"to_number": f"+1213777{i:04d}"} for i in range(3)]})
    assert batch_call.status_code == 201, batch_call.text
    server.engine.clock.advance(60)
    assert call("getBatchTest", "GET", f"/get-batch-test/{batch_id}").json()["status"] == "complete"
    assert call("listBatchTests", "GET", "/v2/list-batch-tests", params={"type": "retell-llm"}).status_code == 200
    runs = call("listTestRuns", "GET", f"/v2/list-test-runs/{batch_id}").json()["items"]
    assert call("getTestRun", "GET", f"/get-test-run/{runs[0]['test_case_job_id']}").status_code == 200
    mine = {"batch_call_id": {"type": "string", "op": "eq", "value": batch_call.json()["batch_call_id"]}}
    calls = call("listCalls", "POST", "/v3/list-calls", json={"filter_criteria": mine, "include_total": True}).json()["items"]
    assert len(calls) == 3
    for item in calls:
        assert call("getCall", "GET", f"/v2/get-call/{item['call_id']}").status_code == 200
    assert call("deleteTestCaseDefinition", "DELETE", f"/delete-test-case-definition/{definition_id}").status_code == 204
    assert call.succeeded() == served(server, "retell")
    assert call.problems(RETELL_ANSWERS, skip=frozenset({"deleteTestCaseDefinition"})) == []  # 204: no body

