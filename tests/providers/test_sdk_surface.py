"""Every method of the batch, file and test surfaces of the three official SDKs (openai, portkey-ai, retell-sdk),
called against the fake with every parameter it has.

``COVERED`` lists, per SDK method, the parameters the calls below pass; ``test_every_parameter_is_covered``
reads the installed SDKs' signatures and fails when a method or a parameter is missing from it, so a new SDK
release that adds one fails here until a call exercises it. What a provider documents as absent is asserted
as a refusal (AnyAPI's undocumented file list and delete, Phaseo's undocumented delete, AnyAPI's three
endpoints), each with the provider's envelope.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import openai
import pytest
import retell
from openai import OpenAI
from portkey_ai import Portkey
from portkey_ai._vendor import openai as vendored
from retell import Retell

from mockserver.core.settings import Settings
from mockserver.server.live import LiveServer
from tests.conftest import jsonl, upload

GENERIC = {"self", "extra_headers", "extra_query", "extra_body", "timeout", "max_retries", "kwargs"}
EXPIRES = {"anchor": "created_at", "seconds": 3600}
LLM = {"type": "retell-llm", "llm_id": "llm_234sdertfsdsfsdf", "version": 1}
FLOW = {"type": "conversation-flow", "conversation_flow_id": "conversation_flow_8c1e5a2b7d9f"}

# (SDK, resource, method) -> the parameters the tests below pass
COVERED: dict[tuple[str, str, str], set[str]] = {
    ("openai", "files", "create"): {"file", "purpose", "expires_after"},
    ("openai", "files", "retrieve"): {"file_id"},
    ("openai", "files", "list"): {"after", "limit", "order", "purpose"},
    ("openai", "files", "delete"): {"file_id"},
    ("openai", "files", "content"): {"file_id"},
    ("openai", "files", "retrieve_content"): {"file_id"},
    ("openai", "files", "wait_for_processing"): {"id", "poll_interval", "max_wait_seconds"},
    ("openai", "batches", "create"): {"completion_window", "endpoint", "input_file_id", "metadata", "output_expires_after"},
    ("openai", "batches", "retrieve"): {"batch_id"},
    ("openai", "batches", "list"): {"after", "limit"},
    ("openai", "batches", "cancel"): {"batch_id"},
    ("portkey", "files", "create"): {"file", "purpose"},
    ("portkey", "files", "retrieve"): {"file_id"},
    ("portkey", "files", "list"): {"purpose", "after", "limit", "order"},
    ("portkey", "files", "delete"): {"file_id"},
    ("portkey", "files", "content"): {"file_id"},
    ("portkey", "files", "retrieve_content"): {"file_id"},
    ("portkey", "files", "wait_for_processing"): {"id", "poll_interval", "max_wait_seconds"},
    ("portkey", "batches", "create"): {"completion_window", "endpoint", "input_file_id", "metadata"},
    ("portkey", "batches", "retrieve"): {"batch_id"},
    ("portkey", "batches", "list"): {"after", "limit"},
    ("portkey", "batches", "cancel"): {"batch_id"},
    ("portkey", "batches", "output"): {"batch_id"},
    ("retell", "tests", "create_batch_test"): {"response_engine", "test_case_definition_ids"},
    ("retell", "tests", "create_test_case_definition"): {"metrics", "name", "response_engine", "user_prompt", "dynamic_variables", "llm_model", "tool_mocks"},
    ("retell", "tests", "delete_test_case_definition"): {"test_case_definition_id"},
    ("retell", "tests", "get_batch_test"): {"test_case_batch_job_id"},
    ("retell", "tests", "get_test_case_definition"): {"test_case_definition_id"},
    ("retell", "tests", "get_test_run"): {"test_case_job_id"},
    ("retell", "tests", "list_batch_tests"): {"type", "conversation_flow_id", "limit", "llm_id", "pagination_key", "version"},
    ("retell", "tests", "list_test_case_definitions"): {"type", "conversation_flow_id", "limit", "llm_id", "pagination_key"},
    ("retell", "tests", "list_test_runs"): {"test_case_batch_job_id", "limit", "pagination_key"},
    ("retell", "tests", "update_test_case_definition"): {
        "test_case_definition_id", "dynamic_variables", "llm_model", "metrics", "name", "response_engine", "tool_mocks", "user_prompt",
    },
    # create_batch_call with every parameter: tests/providers/retell/test_batch_calls.py
    ("retell", "batch_call", "create_batch_call"): {"from_number", "tasks", "call_time_window", "name", "reserved_concurrency", "trigger_timestamp"},
}


def _resource_classes() -> dict[tuple[str, str], type]:
    from openai.resources.batches import Batches
    from openai.resources.files import Files
    from portkey_ai.api_resources.apis.batches import Batches as PortkeyBatches
    from portkey_ai.api_resources.apis.main_files import MainFiles
    from retell.resources.batch_call import BatchCallResource
    from retell.resources.tests import TestsResource

    return {
        ("openai", "files"): Files, ("openai", "batches"): Batches,
        ("portkey", "files"): MainFiles, ("portkey", "batches"): PortkeyBatches,
        ("retell", "tests"): TestsResource, ("retell", "batch_call"): BatchCallResource,
    }


def test_every_parameter_is_covered() -> None:
    for (sdk, resource), cls in _resource_classes().items():
        methods = {name: fn for name, fn in inspect.getmembers(cls, inspect.isfunction) if not name.startswith(("_", "with_"))}
        for name, fn in methods.items():
            params = set(inspect.signature(fn).parameters) - GENERIC
            assert (sdk, resource, name) in COVERED, f"{sdk} {resource}.{name} is not exercised"
            assert COVERED[(sdk, resource, name)] == params, f"{sdk} {resource}.{name}: {params ^ COVERED[(sdk, resource, name)]}"


# -- openai SDK: AnyAPI and Phaseo ---------------------------------------------------------------------


def oai(server: LiveServer, provider: str) -> OpenAI:
    return OpenAI(base_url=server.base_url(provider), api_key="sk-test", max_retries=0)


@pytest.mark.parametrize("provider", ["anyapi", "phaseo"])
def test_openai_sdk_files_every_method_and_parameter(server: LiveServer, provider: str) -> None:
    client = oai(server, provider)
    file = client.files.create(file=upload(jsonl(2)), purpose="batch", expires_after=EXPIRES)
    assert file.purpose == "batch" and client.files.retrieve(file.id).id == file.id
    if provider == "phaseo":  # AnyAPI's documented file object has no expires_at; Phaseo's (OpenAI's) does
        assert file.expires_at == file.created_at + 3600
    with pytest.raises(openai.BadRequestError):  # OpenAI's bounds: 3600 .. 2592000 seconds
        client.files.create(file=upload(jsonl(1)), purpose="batch", expires_after={"anchor": "created_at", "seconds": 60})
    assert client.files.content(file.id).content == jsonl(2)
    with pytest.warns(DeprecationWarning):
        assert client.files.retrieve_content(file.id) == jsonl(2).decode()
    assert client.files.wait_for_processing(file.id, poll_interval=0.01, max_wait_seconds=5).status == "processed"
    if provider == "anyapi":
        # AnyAPI documents no file list and no file delete (PROVIDERS.md section 2): 405 in its envelope
        for call in (lambda: client.files.list(after=file.id, limit=5, order="asc", purpose="batch"), lambda: client.files.delete(file.id)):
            with pytest.raises(openai.APIStatusError) as refused:
                call()
            assert refused.value.status_code == 405 and refused.value.body["code"] == 405
        return
    second = client.files.create(file=upload(jsonl(1)), purpose="user_data")
    listed = client.files.list(after=file.id, limit=5, order="asc", purpose="user_data")
    assert [f.id for f in listed] == [second.id]
    with pytest.raises(openai.APIStatusError) as refused:  # Phaseo documents no file delete
        client.files.delete(file.id)
    assert refused.value.status_code == 405


@pytest.mark.parametrize("provider", ["anyapi", "phaseo"])
def test_openai_sdk_batches_every_method_and_parameter(server: LiveServer, provider: str) -> None:
    client = oai(server, provider)
    file = client.files.create(file=upload(jsonl(2)), purpose="batch")
    batch = client.batches.create(
        completion_window="24h", endpoint="/v1/chat/completions", input_file_id=file.id,
        metadata={"team": "qa"}, output_expires_after={"anchor": "created_at", "seconds": 7200},
    )
    assert batch.metadata == {"team": "qa"}
    server.engine.clock.advance(60)
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed" and done.output_file_id
    output = client.files.retrieve(done.output_file_id)
    assert client.files.content(output.id).text.count("\n") == 2
    if provider == "phaseo":
        assert output.expires_at == output.created_at + 7200  # output_expires_after, anchored on the output file
    first_line = json.loads(client.files.content(output.id).text.splitlines()[0])
    assert first_line["response"]["request_id"].startswith("req_")
    other = client.batches.create(completion_window="24h", endpoint="/v1/embeddings", input_file_id=client.files.create(
        file=upload(jsonl(1, url="/v1/embeddings")), purpose="batch").id)
    page = client.batches.list(after=other.id, limit=1)
    assert [b.id for b in page.data] == [batch.id]
    cancelled = client.batches.cancel(other.id)
    assert cancelled.id == other.id and cancelled.status in ("cancelled", "cancelling")
    # every endpoint the SDK's Literal allows: what the provider documents is accepted, the rest refused
    accepted = {"anyapi": {"/v1/chat/completions", "/v1/completions", "/v1/embeddings"},
                "phaseo": {"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/moderations",
                           "/v1/images/generations", "/v1/images/edits", "/v1/videos"}}[provider]
    for endpoint in ("/v1/responses", "/v1/completions", "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos"):
        if endpoint in accepted:
            lines = client.files.create(file=upload(jsonl(1, url=endpoint)), purpose="batch")
            assert client.batches.create(completion_window="24h", endpoint=endpoint, input_file_id=lines.id).endpoint == endpoint  # type: ignore[arg-type]
        else:
            with pytest.raises(openai.BadRequestError):
                client.batches.create(completion_window="24h", endpoint=endpoint, input_file_id=file.id)  # type: ignore[arg-type]


def test_phaseo_takes_what_its_docs_show(server: LiveServer) -> None:
    """completion_window optional, endpoint echoed as given, the docs' status words (or the upstream's, by setting)."""
    client = oai(server, "phaseo")
    file = client.files.create(file=upload(jsonl(1, url="/v1/responses")), purpose="batch")
    raw = client.post("/batches", body={"input_file_id": file.id, "endpoint": "responses"}, cast_to=httpx_json())
    assert raw["endpoint"] == "responses" and raw["completion_window"] == "24h" and raw["status"] == "queued"
    server.engine.clock.advance(60)
    assert client.batches.retrieve(raw["id"]).status == "completed"


def httpx_json() -> Any:
    return object  # the openai SDK answers the parsed JSON for cast_to=object


def test_phaseo_upstream_status_words_by_setting() -> None:
    with LiveServer(Settings(response_validation="strict", clock_speed=0.0, phaseo_status="upstream")) as server:
        client = oai(server, "phaseo")
        file = client.files.create(file=upload(jsonl(1)), purpose="batch")
        batch = client.batches.create(completion_window="24h", endpoint="/v1/chat/completions", input_file_id=file.id)
        assert batch.status == "validating"
        server.engine.clock.advance(1.5)
        assert client.batches.retrieve(batch.id).status == "in_progress"
        assert server.engine.violations == []


# -- portkey-ai SDK -----------------------------------------------------------------------------------


def test_portkey_sdk_every_method_and_parameter(server: LiveServer) -> None:
    client = Portkey(api_key="pk-test", provider="openai", base_url=server.base_url("portkey"))
    file = client.files.create(file=upload(jsonl(2, url="/v1/responses")), purpose="batch", expires_after=EXPIRES)  # kwargs -> the form
    assert client.files.retrieve(file.id).expires_at == file.created_at + 3600
    evals = client.files.create(file=upload(jsonl(1)), purpose="evals")
    listed = client.files.list(purpose="evals", after=file.id, limit=5, order="asc")
    assert [f.id for f in listed.data] == [evals.id]
    assert client.files.content(file.id).content == jsonl(2, url="/v1/responses")
    with pytest.warns(DeprecationWarning):
        assert client.files.retrieve_content(file.id).content == jsonl(2, url="/v1/responses")
    assert client.files.wait_for_processing(file.id, poll_interval=0.01, max_wait_seconds=5).status == "processed"
    # a pass-through gateway accepts what OpenAI accepts: /v1/responses and output_expires_after (kwargs -> body)
    batch = client.batches.create(
        completion_window="24h", endpoint="/v1/responses", input_file_id=file.id, metadata={"team": "qa"},
        output_expires_after={"anchor": "created_at", "seconds": 3600},
    )
    assert batch.endpoint == "/v1/responses" and batch.metadata == {"team": "qa"}
    server.engine.clock.advance(60)
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed"
    assert client.files.retrieve(done.output_file_id).expires_at is not None
    output = client.batches.output(batch.id)
    assert output.headers["content-type"] == "application/octet-stream"
    assert [json.loads(line)["response"]["body"]["object"] for line in output.text.splitlines()] == ["response", "response"]
    chat = client.files.create(file=upload(jsonl(1)), purpose="batch")
    second = client.batches.create(completion_window="immediate", endpoint="/v1/chat/completions", input_file_id=chat.id)
    assert [b.id for b in client.batches.list(after=second.id, limit=1).data] == [batch.id]
    assert client.batches.cancel(second.id).status in ("cancelling", "failed")
    assert client.files.delete(evals.id).deleted is True
    with pytest.raises(vendored.BadRequestError):  # not a batch endpoint of OpenAI's either
        client.batches.create(completion_window="24h", endpoint="/v1/audio/transcriptions", input_file_id=file.id)  # type: ignore[arg-type]


def test_portkey_output_of_a_failed_batch_is_its_errors_as_text(server: LiveServer) -> None:
    client = Portkey(api_key="pk-test", provider="openai", base_url=server.base_url("portkey"))
    file = client.files.create(file=upload(b'{"custom_id": "a", "method": "POST"\n', name="bad.jsonl"), purpose="batch")
    batch = client.batches.create(completion_window="24h", endpoint="/v1/chat/completions", input_file_id=file.id)
    server.engine.clock.advance(60)
    assert client.batches.retrieve(batch.id).status == "failed"
    output = client.batches.output(batch.id)
    assert output.status_code == 200 and output.headers["content-type"] == "text/plain;charset=UTF-8"
    assert json.loads(output.text)["data"][0]["code"]


def test_portkey_ai_gateway_login(server: LiveServer) -> None:
    """portkey.ai/docs/aigw: the Portkey key as ``Authorization: Bearer`` with ``x-portkey-provider``."""
    client = OpenAI(base_url=server.base_url("portkey"), api_key="pk-aigw", default_headers={"x-portkey-provider": "@openai-prod"}, max_retries=0)
    file = client.files.create(file=upload(jsonl(1)), purpose="batch")
    assert client.batches.create(completion_window="24h", endpoint="/v1/chat/completions", input_file_id=file.id).status == "validating"
    same_namespace = Portkey(api_key="pk-aigw", provider="openai", base_url=server.base_url("portkey"))
    assert [f.id for f in same_namespace.files.list().data] == [file.id]


# -- retell-sdk ---------------------------------------------------------------------------------------


def test_retell_sdk_tests_every_method_and_parameter(server: LiveServer) -> None:
    client = Retell(api_key="test-key", base_url=server.base_url("retell"), max_retries=0)
    mock = {"tool_name": "lookup", "input_match_rule": {"type": "any"}, "output": "{\"found\": true}"}
    definition = client.tests.create_test_case_definition(
        metrics=["Confirms the time"], name="Reschedule", response_engine=LLM, user_prompt="Move my appointment.",
        dynamic_variables={"customer": "Ada"}, llm_model="gpt-4.1-mini", tool_mocks=[mock],
    )
    assert definition.llm_model == "gpt-4.1-mini" and definition.dynamic_variables == {"customer": "Ada"}
    flow = client.tests.create_test_case_definition(metrics=[], name="Flow", response_engine=FLOW, user_prompt="Hi.")
    updated = client.tests.update_test_case_definition(
        definition.test_case_definition_id, dynamic_variables={"customer": "Grace"}, llm_model="gpt-4.1", metrics=["Says goodbye"],
        name="Renamed", response_engine=LLM, tool_mocks=[], user_prompt="Cancel it.",
    )
    assert (updated.name, updated.metrics, updated.tool_mocks) == ("Renamed", ["Says goodbye"], [])
    assert client.tests.get_test_case_definition(definition.test_case_definition_id).name == "Renamed"
    listed = client.tests.list_test_case_definitions(type="retell-llm", llm_id=LLM["llm_id"], limit=1)
    assert [d.test_case_definition_id for d in listed.items] == [definition.test_case_definition_id]
    flows = client.tests.list_test_case_definitions(type="conversation-flow", conversation_flow_id=FLOW["conversation_flow_id"], limit=5, pagination_key="unknown")
    assert flows.items == []
    assert [d.test_case_definition_id for d in client.tests.list_test_case_definitions(type="conversation-flow").items] == [flow.test_case_definition_id]
    batch = client.tests.create_batch_test(response_engine=LLM, test_case_definition_ids=[definition.test_case_definition_id] * 2)
    assert client.tests.get_batch_test(batch.test_case_batch_job_id).total_count == 2
    runs = client.tests.list_test_runs(batch.test_case_batch_job_id, limit=1)
    assert runs.has_more and runs.pagination_key
    rest = client.tests.list_test_runs(batch.test_case_batch_job_id, limit=1, pagination_key=runs.pagination_key)
    assert client.tests.get_test_run(rest.items[0].test_case_job_id).test_case_definition_id == definition.test_case_definition_id
    page = client.tests.list_batch_tests(type="retell-llm", llm_id=LLM["llm_id"], version=1, limit=10, pagination_key="unknown")
    assert page.items == []
    assert [b.test_case_batch_job_id for b in client.tests.list_batch_tests(type="retell-llm").items] == [batch.test_case_batch_job_id]
    assert client.tests.list_batch_tests(type="conversation-flow", conversation_flow_id=FLOW["conversation_flow_id"]).items == []
    assert client.tests.delete_test_case_definition(flow.test_case_definition_id) is None
    with pytest.raises(retell.NotFoundError):
        client.tests.get_test_case_definition(flow.test_case_definition_id)
