"""The official openai SDK, unmodified and strict, against OpenAI's own Batch API at /openai/v1: upload -> create
-> advance the clock -> results, cancel, list pagination of batches and files, file delete and expiry, the limits
and OpenAI's error envelope."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from openai import OpenAI

from mockserver.server.live import LiveServer
from tests.conftest import jsonl, upload

DONE = 4.0  # Durations(): validating 1 + in_progress 2 + finalizing 1 simulated seconds


def sdk(server: LiveServer, key: str = "sk-openai-test") -> OpenAI:
    return OpenAI(base_url=server.base_url("openai"), api_key=key, max_retries=0, _strict_response_validation=True)


def batch_of(client: OpenAI, n: int = 3, url: str = "/v1/chat/completions", **extra: object) -> openai.types.Batch:
    file = client.files.create(file=upload(jsonl(n, url)), purpose="batch")
    return client.batches.create(input_file_id=file.id, endpoint=url, completion_window="24h", **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["/v1/chat/completions", "/v1/responses", "/v1/embeddings", "/v1/completions"])
def test_upload_create_advance_and_download_the_results(frozen_server: LiveServer, url: str) -> None:
    client = sdk(frozen_server)
    batch = batch_of(client, 4, url, metadata={"team": "qa"}, output_expires_after={"anchor": "created_at", "seconds": 3600})
    assert batch.status == "validating" and batch.errors is None and batch.metadata == {"team": "qa"}
    assert batch.expires_at == batch.created_at + 86_400 and batch.usage is None
    frozen_server.engine.clock.advance(DONE)
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed" and done.request_counts is not None and (done.request_counts.total, done.request_counts.completed) == (4, 4)
    assert done.in_progress_at is not None and done.finalizing_at is not None and done.completed_at is not None
    assert done.model and done.usage is not None and done.usage.total_tokens == done.usage.input_tokens + done.usage.output_tokens > 0
    assert done.output_file_id and done.error_file_id is None
    lines = [json.loads(line) for line in client.files.content(done.output_file_id).text.splitlines()]
    assert [line["custom_id"] for line in lines] == [f"req-{i}" for i in range(4)] and all(line["response"]["status_code"] == 200 for line in lines)
    output = client.files.retrieve(done.output_file_id)
    assert output.purpose == "batch_output" and output.expires_at == output.created_at + 3600


def test_cancel_goes_through_cancelling_and_keeps_what_ran(frozen_server: LiveServer) -> None:
    client = sdk(frozen_server)
    batch = batch_of(client, 10)
    frozen_server.engine.clock.advance(2.0)  # validated, half of the lines run
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
    frozen_server.engine.clock.advance(1.0)
    cancelled = client.batches.retrieve(batch.id)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None and cancelled.request_counts is not None
    assert cancelled.request_counts.completed == 5 and cancelled.output_file_id
    finished = batch_of(client, 1)
    frozen_server.engine.clock.advance(DONE)
    with pytest.raises(openai.BadRequestError) as refused:  # a finished batch cannot be cancelled (README: our choice)
        client.batches.cancel(finished.id)
    error = refused.value.body
    assert isinstance(error, dict) and set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"


def test_batches_and_files_auto_paginate_newest_first(frozen_server: LiveServer) -> None:
    client = sdk(frozen_server)
    file = client.files.create(file=upload(jsonl(1)), purpose="batch")
    created = [client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h").id for _ in range(7)]
    assert [b.id for b in client.batches.list(limit=3)] == created[::-1]
    uploads = [file.id] + [client.files.create(file=upload(jsonl(1)), purpose="batch").id for _ in range(4)]
    assert [f.id for f in client.files.list(limit=2, order="asc")] == uploads
    assert [f.id for f in client.files.list(purpose="batch", limit=2)] == uploads[::-1]


def test_a_file_can_be_deleted_and_given_an_expiry(frozen_server: LiveServer) -> None:
    client = sdk(frozen_server)
    default = client.files.create(file=upload(jsonl(1)), purpose="batch")
    assert default.expires_at == default.created_at + 30 * 86_400  # batch files expire after 30 days
    short = client.files.create(file=upload(jsonl(1)), purpose="batch", expires_after={"anchor": "created_at", "seconds": 7200})
    assert short.expires_at == short.created_at + 7200
    deleted = client.files.delete(short.id)
    assert deleted.deleted is True and deleted.id == short.id
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(short.id)


def test_each_key_is_its_own_namespace(frozen_server: LiveServer) -> None:
    alice, bob = sdk(frozen_server, "sk-alice"), sdk(frozen_server, "sk-bob")
    batch = batch_of(alice)
    with pytest.raises(openai.NotFoundError):
        bob.batches.retrieve(batch.id)
    assert bob.batches.list().data == [] and bob.files.list().data == []


def test_the_documented_limits_and_mistakes_get_openais_envelope(frozen_server: LiveServer) -> None:
    client = sdk(frozen_server)
    file = client.files.create(file=upload(jsonl(1)), purpose="batch")
    too_much = {f"k{i}": "v" for i in range(17)}  # metadata: at most 16 pairs
    with pytest.raises(openai.BadRequestError) as metadata:
        client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h", metadata=too_much)
    assert metadata.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as window:
        client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="1h")  # type: ignore[arg-type]
    assert window.value.status_code == 400
    with pytest.raises(openai.BadRequestError) as unknown:
        client.batches.create(input_file_id=file.id, endpoint="/v1/audio/speech", completion_window="24h")  # type: ignore[arg-type]
    assert unknown.value.status_code == 400 and unknown.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError, match="Must be .jsonl"):
        client.files.create(file=upload(jsonl(1), "input.txt"), purpose="batch")
    unauthenticated = httpx.get(frozen_server.base_url("openai") + "/batches")
    assert unauthenticated.status_code == 401 and unauthenticated.json()["error"]["code"] == "invalid_api_key"
    assert unauthenticated.json()["error"]["type"] == "authentication_error"
    answer = httpx.get(frozen_server.base_url("openai") + "/batches/batch_nope", headers={"Authorization": "Bearer k"})
    assert answer.status_code == 404 and set(answer.json()["error"]) == {"message", "type", "param", "code"}
    assert answer.headers["x-request-id"]


def test_more_than_50000_requests_fail_validation(frozen_server: LiveServer) -> None:
    client = sdk(frozen_server)
    line = json.dumps({"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", "body": {}}) + "\n"
    file = client.files.create(file=("big.jsonl", "".join(line.replace('"x"', f'"r{i}"') for i in range(50_001)).encode()), purpose="batch")
    batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
    frozen_server.engine.clock.advance(DONE)
    failed = client.batches.retrieve(batch.id)
    assert failed.status == "failed" and failed.errors is not None and failed.errors.data is not None
    assert failed.errors.data[0].code == "too_many_tasks" and "50000" in (failed.errors.data[0].message or "")


@pytest.mark.parametrize("url", ["/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos"])
def test_the_other_documented_endpoints_complete_with_lines_the_sdk_parses(frozen_server: LiveServer, url: str) -> None:
    from tests.providers.test_sdk_models import line_problems

    client = sdk(frozen_server)
    batch = batch_of(client, 3, url)
    frozen_server.engine.clock.advance(DONE)
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed" and done.request_counts is not None and done.request_counts.completed == 3
    assert done.output_file_id
    content = client.files.content(done.output_file_id).text
    assert len(content.splitlines()) == 3 and line_problems(content, url) == []
