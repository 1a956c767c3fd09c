"""The official anthropic SDK, unmodified and strict, against /anthropic over a real socket: create -> advance the
clock -> results, cancel, list pagination, delete, per-key isolation and Anthropic's error envelope."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest
from anthropic import Anthropic

from mockserver.server.live import LiveServer

PROCESSING = 2.0  # Durations().in_progress: a batch processes its requests in this many simulated seconds
DAY = 86_400.0


def sdk(server: LiveServer, key: str = "sk-ant-test") -> Anthropic:
    return Anthropic(base_url=server.base_url("anthropic"), api_key=key, max_retries=0, _strict_response_validation=True)


def requests(n: int, **params: Any) -> list[dict[str, Any]]:
    return [
        {"custom_id": f"req-{i}", "params": {"model": "claude-sonnet-4-5", "max_tokens": 64,
                                             "messages": [{"role": "user", "content": f"Say {i}"}], **params}}
        for i in range(n)
    ]


def test_create_advance_and_stream_the_results(frozen_server: LiveServer) -> None:
    client = sdk(frozen_server)
    batch = client.messages.batches.create(requests=requests(3) + [
        {"custom_id": "streams", "params": {"model": "claude-sonnet-4-5", "max_tokens": 8, "stream": True, "messages": [{"role": "user", "content": "x"}]}}
    ])
    assert batch.processing_status == "in_progress" and batch.type == "message_batch" and batch.id.startswith("msgbatch_")
    assert batch.request_counts.processing == 4 and batch.results_url is None and batch.ended_at is None
    assert (batch.expires_at - batch.created_at).total_seconds() == DAY
    frozen_server.engine.clock.advance(PROCESSING / 2)
    halfway = client.messages.batches.retrieve(batch.id)
    # the docs: requests stay `processing` until the whole batch has ended
    assert halfway.processing_status == "in_progress" and halfway.request_counts.processing == 4
    frozen_server.engine.clock.advance(PROCESSING)
    ended = client.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended" and ended.ended_at is not None and ended.ended_at > ended.created_at
    counts = ended.request_counts
    assert (counts.processing, counts.succeeded, counts.errored, counts.canceled, counts.expired) == (0, 3, 1, 0, 0)
    assert ended.results_url == f"{frozen_server.base_url('anthropic')}/v1/messages/batches/{batch.id}/results"
    results = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    assert set(results) == {"req-0", "req-1", "req-2", "streams"}
    ok = results["req-1"]
    assert ok.type == "succeeded" and ok.message.role == "assistant" and ok.message.model == "claude-sonnet-4-5"
    assert ok.message.content[0].type == "text" and ok.message.usage.input_tokens > 0 and ok.message.stop_reason == "end_turn"
    failed = results["streams"]
    assert failed.type == "errored" and failed.error.error.type == "invalid_request_error" and "stream" in failed.error.error.message
    again = [r.model_dump() for r in client.messages.batches.results(batch.id)]
    assert again == [r.model_dump() for r in client.messages.batches.results(batch.id)]  # reads change nothing


def test_cancel_goes_through_canceling_and_unprocessed_requests_end_canceled(frozen_server: LiveServer) -> None:
    client = sdk(frozen_server)
    batch = client.messages.batches.create(requests=requests(4))
    frozen_server.engine.clock.advance(PROCESSING * 0.6)  # two of four requests processed
    canceling = client.messages.batches.cancel(batch.id)
    assert canceling.processing_status == "canceling" and canceling.cancel_initiated_at is not None
    assert client.messages.batches.cancel(batch.id).cancel_initiated_at == canceling.cancel_initiated_at  # twice: harmless
    frozen_server.engine.clock.advance(1.0)  # Durations().cancelling
    ended = client.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended" and ended.ended_at is not None and ended.ended_at > canceling.cancel_initiated_at
    assert (ended.request_counts.succeeded, ended.request_counts.canceled) == (2, 2)
    assert [r.result.type for r in client.messages.batches.results(batch.id)] == ["succeeded", "succeeded", "canceled", "canceled"]
    with pytest.raises(anthropic.BadRequestError) as refused:
        client.messages.batches.cancel(batch.id)
    assert refused.value.body == {"type": "error", "error": {"type": "invalid_request_error", "message": refused.value.body["error"]["message"]}}
    assert "ended" in refused.value.body["error"]["message"] and refused.value.request_id


def test_list_pages_newest_first_both_ways(frozen_server: LiveServer) -> None:
    client = sdk(frozen_server)
    created = [client.messages.batches.create(requests=requests(1)).id for _ in range(7)]
    assert [b.id for b in client.messages.batches.list(limit=3)] == created[::-1]  # the SDK follows after_id=last_id
    first = client.messages.batches.list(limit=3)
    assert [b.id for b in first.data] == created[:3:-1] and first.has_more and first.first_id == created[-1] and first.last_id == created[-3]
    before = client.messages.batches.list(before_id=created[2], limit=2)
    assert [b.id for b in before.data] == [created[4], created[3]] and before.has_more is True
    newest = client.messages.batches.list(before_id=created[4], limit=5)
    assert [b.id for b in newest.data] == [created[6], created[5]] and newest.has_more is False
    assert client.messages.batches.list(after_id="msgbatch_unknown").data == []


def test_delete_only_once_ended_then_gone(frozen_server: LiveServer) -> None:
    client = sdk(frozen_server)
    batch = client.messages.batches.create(requests=requests(2))
    with pytest.raises(anthropic.BadRequestError, match="only an ended batch can be deleted"):
        client.messages.batches.delete(batch.id)
    frozen_server.engine.clock.advance(PROCESSING)
    deleted = client.messages.batches.delete(batch.id)
    assert (deleted.id, deleted.type) == (batch.id, "message_batch_deleted")
    with pytest.raises(anthropic.NotFoundError) as gone:
        client.messages.batches.retrieve(batch.id)
    assert gone.value.body["error"]["type"] == "not_found_error"
    assert [b.id for b in client.messages.batches.list()] == []


def test_each_key_is_its_own_namespace(frozen_server: LiveServer) -> None:
    alice, bob = sdk(frozen_server, "sk-ant-alice"), sdk(frozen_server, "sk-ant-bob")
    batch = alice.messages.batches.create(requests=requests(1))
    with pytest.raises(anthropic.NotFoundError):
        bob.messages.batches.retrieve(batch.id)
    assert [b.id for b in bob.messages.batches.list()] == [] and [b.id for b in alice.messages.batches.list()] == [batch.id]


def test_a_batch_that_cannot_finish_expires_after_24_hours(frozen_server: LiveServer) -> None:
    client = sdk(frozen_server)
    batch = client.messages.batches.create(requests=requests(3), extra_headers={"X-Mock-Scenario": "expire"})
    frozen_server.engine.clock.advance(DAY - 1)
    assert client.messages.batches.retrieve(batch.id).processing_status == "in_progress"
    frozen_server.engine.clock.advance(1)
    ended = client.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended" and ended.ended_at == ended.expires_at and ended.request_counts.expired == 3
    assert {r.result.type for r in client.messages.batches.results(batch.id)} == {"expired"}


def test_results_are_archived_29_days_after_creation(frozen_server: LiveServer) -> None:
    client = sdk(frozen_server)
    batch = client.messages.batches.create(requests=requests(1))
    frozen_server.engine.clock.advance(29 * DAY - 10)
    assert client.messages.batches.retrieve(batch.id).archived_at is None
    assert len(list(client.messages.batches.results(batch.id))) == 1
    frozen_server.engine.clock.advance(10)
    archived = client.messages.batches.retrieve(batch.id)
    assert archived.archived_at is not None and (archived.archived_at - archived.created_at).total_seconds() == 29 * DAY
    with pytest.raises(anthropic.NotFoundError, match="no longer available"):
        list(client.messages.batches.results(batch.id))


def test_client_mistakes_get_anthropics_envelope_never_a_500(frozen_server: LiveServer) -> None:
    url = frozen_server.base_url("anthropic") + "/v1/messages/batches"
    version = {"anthropic-version": "2023-06-01"}
    no_key = httpx.get(url, headers=version)
    assert no_key.status_code == 401 and no_key.json() == {"type": "error", "error": {"type": "authentication_error", "message": "x-api-key header is required"}}
    no_version = httpx.get(url, headers={"x-api-key": "k"})
    assert no_version.status_code == 400 and no_version.json()["error"] == {"type": "invalid_request_error", "message": "anthropic-version: header is required"}
    headers = {"x-api-key": "k", **version}
    twice = httpx.post(url, headers=headers, json={"requests": requests(1) + requests(1)})
    assert twice.status_code == 400 and "custom_id 'req-0' is used more than once" in twice.json()["error"]["message"]
    bad_id = httpx.post(url, headers=headers, json={"requests": [{**requests(1)[0], "custom_id": "has space"}]})
    assert bad_id.status_code == 400 and bad_id.json()["type"] == "error"
    no_tokens = httpx.post(url, headers=headers, json={"requests": [{"custom_id": "a", "params": {"model": "m", "messages": []}}]})
    assert no_tokens.status_code == 400 and no_tokens.json()["error"]["type"] == "invalid_request_error"
    created = httpx.post(url, headers=headers, json={"requests": requests(1)}).json()
    early = httpx.get(f"{url}/{created['id']}/results", headers=headers)
    assert early.status_code == 400 and "available once processing has ended" in early.json()["error"]["message"]
    both = httpx.get(url, headers=headers, params={"before_id": created["id"], "after_id": created["id"]})
    assert both.status_code == 400 and both.json()["error"]["type"] == "invalid_request_error"
    assert list(frozen_server.engine.violations) == []


def test_a_large_batch_with_one_bad_request_is_refused_naming_it(frozen_server: LiveServer) -> None:
    """A body over 256 KiB is explained from the compiled validator's first error, in the usual words."""
    client = sdk(frozen_server)
    many = requests(5_000)
    many[-1]["custom_id"] = "has space"
    with pytest.raises(anthropic.BadRequestError) as refused:
        client.messages.batches.create(requests=many)  # type: ignore[arg-type]
    assert refused.value.body["error"]["message"].startswith("Invalid value for 'requests.4999.custom_id': \"has space\" does not match")
    del many[-1]["params"]["max_tokens"]
    many[-1]["custom_id"] = "fine"
    with pytest.raises(anthropic.BadRequestError, match=r"Missing required parameter: 'requests.4999.params.max_tokens'"):
        client.messages.batches.create(requests=many)  # type: ignore[arg-type]
    assert client.messages.batches.list().data == []
