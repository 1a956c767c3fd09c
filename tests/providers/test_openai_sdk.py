"""The official ``openai`` SDK, unmodified, against the AnyAPI and Phaseo prefixes."""

from __future__ import annotations

import json
import time

import openai
import pytest
from openai import OpenAI

from mockserver.core.settings import Settings
from mockserver.server.live import LiveServer
from tests.conftest import jsonl, upload

PROVIDERS = ["anyapi", "phaseo"]


def sdk(server: LiveServer, provider: str, key: str = "sk-test") -> OpenAI:
    return OpenAI(base_url=server.base_url(provider), api_key=key, max_retries=0)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_upload_create_poll_download(server: LiveServer, provider: str) -> None:
    client = sdk(server, provider)
    file = client.files.create(file=upload(jsonl(5)), purpose="batch")
    assert file.purpose == "batch" and file.bytes == len(jsonl(5))
    batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"team": "qa"})
    assert batch.status == {"anyapi": "validating", "phaseo": "queued"}[provider] and batch.metadata == {"team": "qa"}
    server.engine.clock.advance(3600)
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed"
    assert batch.request_counts is not None and batch.request_counts.total == 5 and batch.request_counts.completed == 5
    assert batch.completed_at is not None and batch.completed_at >= batch.created_at
    output = client.files.content(batch.output_file_id).text.splitlines()
    assert len(output) == 5
    first = json.loads(output[0])
    assert first["custom_id"] == "req-0" and first["response"]["body"]["choices"][0]["message"]["role"] == "assistant"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_completes_within_seconds_without_touching_the_clock(server: LiveServer, provider: str) -> None:
    client = sdk(server, provider)
    file = client.files.create(file=upload(jsonl(2)), purpose="batch")
    batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
    deadline = time.monotonic() + 30
    while batch.status != "completed" and time.monotonic() < deadline:
        time.sleep(0.25)
        batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_list_auto_paginates_every_batch_once(server: LiveServer, provider: str) -> None:
    client = sdk(server, provider)
    file = client.files.create(file=upload(jsonl(1)), purpose="batch")
    created = [client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h").id for _ in range(7)]
    listed = [b.id for b in client.batches.list(limit=3)]
    assert listed == created[::-1]


def test_anyapi_cancel_answers_cancelled_at_once(server: LiveServer) -> None:
    client = sdk(server, "anyapi")
    file = client.files.create(file=upload(jsonl(3)), purpose="batch")
    batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
    cancelled = client.batches.cancel(batch.id)
    assert cancelled.status == "cancelled" and cancelled.id == batch.id
    assert client.batches.retrieve(batch.id).status == "cancelled"


def test_phaseo_cancel_goes_through_cancelling(server: LiveServer) -> None:
    client = sdk(server, "phaseo")
    file = client.files.create(file=upload(jsonl(3)), purpose="batch")
    batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
    server.engine.clock.advance(1.5)
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
    server.engine.clock.advance(600)
    done = client.batches.retrieve(batch.id)
    assert done.status == "cancelled" and done.cancelled_at is not None
    with pytest.raises(openai.BadRequestError) as info:
        client.batches.cancel(batch.id)
    envelope = info.value.response.json()  # Phaseo's own envelope
    assert envelope["error"] == "validation_error" and envelope["status_code"] == 400
    assert "Cannot cancel" in envelope["description"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_errors_come_out_as_the_sdks_own_exception_types(server: LiveServer, provider: str) -> None:
    client = sdk(server, provider)
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_does_not_exist")
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve("file-nope")
    with pytest.raises(openai.BadRequestError):
        client.files.create(file=upload(b"a,b\n1,2\n", "data.csv"), purpose="batch")
    with pytest.raises(openai.BadRequestError):
        client.batches.create(input_file_id="file-x", endpoint="/v1/chat/completions", completion_window="48h")  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError):
        client.batches.create(
            input_file_id="file-x", endpoint="/v1/chat/completions", completion_window="24h", metadata={f"k{i}": "v" for i in range(17)}
        )
    with pytest.raises(openai.BadRequestError):
        client.batches.list(limit=101)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_key_is_its_own_namespace(server: LiveServer, provider: str) -> None:
    alice, bob = sdk(server, provider, "key-alice"), sdk(server, provider, "key-bob")
    file = alice.files.create(file=upload(jsonl(1)), purpose="batch")
    batch = alice.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
    with pytest.raises(openai.NotFoundError):
        bob.batches.retrieve(batch.id)
    with pytest.raises(openai.NotFoundError):
        bob.files.content(file.id)
    assert [b.id for b in bob.batches.list()] == []
    assert [b.id for b in alice.batches.list()] == [batch.id]


def test_configured_keys_reject_every_other_key() -> None:
    with LiveServer(Settings(response_validation="strict", api_keys={"anyapi": ("good",), "phaseo": ("good",)})) as server:
        for provider in PROVIDERS:
            with pytest.raises(openai.AuthenticationError):
                sdk(server, provider, "bad").batches.list()
            assert list(sdk(server, provider, "good").batches.list()) == []
        assert list(server.engine.violations) == []


def test_expired_batch_error_file_through_the_sdk(server: LiveServer) -> None:
    client = sdk(server, "anyapi")
    file = client.files.create(file=upload(jsonl(2)), purpose="batch")
    batch = client.batches.create(
        input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"mock_scenario": "expire"}
    )
    server.engine.clock.advance(86_401)
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "expired" and batch.expired_at == batch.expires_at
    codes = [json.loads(line)["error"]["code"] for line in client.files.content(batch.error_file_id).text.splitlines()]
    assert codes == ["batch_expired", "batch_expired"]
