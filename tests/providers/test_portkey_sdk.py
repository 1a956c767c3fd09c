"""The official ``portkey-ai`` SDK, unmodified, against the Portkey prefix."""

from __future__ import annotations

import json

import pytest
from portkey_ai import Portkey
from portkey_ai._vendor import openai as vendored

from mockserver.core.settings import Settings
from mockserver.server.live import LiveServer
from tests.conftest import jsonl, upload


def sdk(server: LiveServer, key: str = "pk-test") -> Portkey:
    return Portkey(api_key=key, virtual_key="openai-vk", base_url=server.base_url("portkey"))


def test_upload_create_poll_output_and_download(server: LiveServer) -> None:
    client = sdk(server)
    file = client.files.create(file=upload(jsonl(3, url="/v1/embeddings")), purpose="batch")
    batch = client.batches.create(input_file_id=file.id, endpoint="/v1/embeddings", completion_window="24h")
    assert batch.status == "validating"
    server.engine.clock.advance(60)
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed" and batch.request_counts.total == 3
    streamed = client.batches.output(batch.id)  # Portkey-only endpoint, raw httpx.Response
    assert streamed.status_code == 200 and streamed.headers["content-type"] == "application/octet-stream"
    rows = [json.loads(x) for x in streamed.text.splitlines()]
    assert [r["custom_id"] for r in rows] == ["req-0", "req-1", "req-2"]
    assert rows[0]["response"]["body"]["object"] == "list"
    assert client.files.content(batch.output_file_id).text == streamed.text


def test_list_cancel_delete(server: LiveServer) -> None:
    client = sdk(server)
    file = client.files.create(file=upload(jsonl(2)), purpose="batch")
    batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="immediate")
    listed = client.batches.list()
    assert [b.id for b in listed.data] == [batch.id] and listed.has_more is False
    server.engine.clock.advance(1.2)
    assert client.batches.cancel(batch.id).status == "cancelling"
    assert client.files.delete(file.id).deleted is True
    with pytest.raises(vendored.NotFoundError):
        client.files.retrieve(file.id)


def test_errors_and_auth(server: LiveServer) -> None:
    with pytest.raises(vendored.NotFoundError) as info:
        sdk(server).batches.retrieve("batch_nope")
    assert info.value.response.json()["provider"] == "openai"
    with pytest.raises(vendored.BadRequestError):
        sdk(server).batches.create(input_file_id="f", endpoint="/v1/audio/transcriptions", completion_window="24h")  # type: ignore[arg-type]
    with pytest.raises(vendored.AuthenticationError) as denied:
        Portkey(api_key="", virtual_key="vk", base_url=server.base_url("portkey")).batches.list()
    assert denied.value.response.json() == {"status": "failure", "message": "Portkey API Key Not Found"}


def test_wrong_key_is_rejected_when_keys_are_configured() -> None:
    with LiveServer(Settings(response_validation="strict", api_keys={"portkey": ("pk-good",)})) as server:
        with pytest.raises(vendored.AuthenticationError):
            sdk(server, "pk-bad").batches.list()
        assert sdk(server, "pk-good").batches.list().data == []
