"""Webhooks on a durable state (SQLite and a real PostgreSQL): the outbox (endpoints, secrets, every delivery
and attempt) is stored, so deliveries happen with ``--state``, survive a restart without being sent again, and
several processes on one state send each delivery once (the holder of the ``webhooks`` lease sends)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from mockserver.core.settings import Settings
from mockserver.core.state import open_state
from mockserver.core.store import Store
from mockserver.server.live import LiveServer
from mockserver.testing.receiver import WebhookReceiver

from .conftest import Server

KEY = "sk-durable-hooks"
QUIET = 1.5  # real seconds: longer than a dispatcher's look with a durable state (DURABLE_SLEEP)


@pytest.fixture
def receiver(webhook_receiver: WebhookReceiver) -> WebhookReceiver:
    return webhook_receiver  # the pytest plugin's loopback receiver


def _lines(n: int) -> bytes:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    return b"".join(json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}).encode() + b"\n" for i in range(n))


def batch(base: str) -> str:
    sdk = openai.OpenAI(base_url=base + "/anyapi/v1", api_key=KEY, max_retries=0)
    file = sdk.files.create(file=("in.jsonl", _lines(2)), purpose="batch")
    return sdk.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h").id


def advance(base: str, seconds: float) -> None:
    assert httpx.post(base + "/_mock/clock/advance", json={"seconds": seconds}).status_code == 200


def quiet(receiver: WebhookReceiver, count: int) -> None:
    time.sleep(QUIET)
    assert len(receiver.wait_for(count)) == count


def test_a_lease_is_held_by_one_holder_until_it_runs_out(target: str) -> None:
    state = open_state(target)
    store: Store[Any] = Store({}, state=state)
    with store.transaction():
        assert store.lease("webhooks", "a", now=100.0, ttl=15.0)
    with store.transaction():
        assert not store.lease("webhooks", "b", now=110.0, ttl=15.0)  # a's runs until 115
        assert store.lease("webhooks", "a", now=110.0, ttl=15.0)  # renewed: until 125
    with store.transaction():
        assert not store.lease("webhooks", "b", now=124.0, ttl=15.0)
        assert store.lease("webhooks", "b", now=125.5, ttl=15.0)  # a stopped renewing: b takes over
    with store.transaction():
        store.reset()
        assert not store.lease("webhooks", "a", now=126.0, ttl=15.0)  # a reset keeps the lease
    generation = state.generation()
    with store.transaction(write=False):
        assert not store.lease("webhooks", "a", now=127.0, ttl=15.0)  # seen without a write: nothing stored
    assert state.generation() == generation


def test_two_servers_on_one_state_send_each_delivery_once_and_a_restart_sends_none_again(target: str, receiver: WebhookReceiver) -> None:
    settings = Settings(state=target, clock_speed=0.0)
    with LiveServer(settings) as one, LiveServer(settings) as two:
        added = httpx.post(one.url + "/_mock/webhooks/endpoints", json={"provider": "anyapi", "key": KEY, "url": receiver.url})
        assert added.status_code == 201, added.text
        ids = [batch(one.url), batch(two.url)]
        assert one.app.state.webhooks.running and two.app.state.webhooks.running  # both look, one sends
        advance(two.url, 5)
        hits = receiver.wait_for(2, timeout=10)
        quiet(receiver, 2)
        secret = added.json()["secret"]
        events = [openai.OpenAI(api_key="unused").webhooks.unwrap(h.body, h.headers, secret=secret) for h in hits]
        assert sorted(e.data.id for e in events) == sorted(ids) and {e.type for e in events} == {"batch.completed"}
        for server in (one, two):  # both see the one log
            rows = httpx.get(server.url + "/_mock/webhooks/deliveries").json()["data"]
            assert [(r["state"], len(r["attempts"])) for r in rows] == [("delivered", 1)] * 2
    with LiveServer(settings) as again:  # a restart: the endpoint, its secret and the log are there
        [endpoint] = httpx.get(again.url + "/_mock/webhooks/endpoints").json()["data"]
        assert (endpoint["id"], endpoint["secret"]) == (added.json()["id"], secret)
        assert len(httpx.get(again.url + "/_mock/webhooks/deliveries").json()["data"]) == 2
        later = batch(again.url)
        advance(again.url, 5)
        hits = receiver.wait_for(3, timeout=10)
        quiet(receiver, 3)  # only the new batch's event: the two delivered before are not sent again
        assert openai.OpenAI(api_key="unused").webhooks.unwrap(hits[2].body, hits[2].headers, secret=secret).data.id == later


def test_served_with_two_workers_each_delivery_goes_once_and_the_log_survives_a_restart(tmp_path: Path, receiver: WebhookReceiver,
                                                                                      servers: list[Server]) -> None:
    # `mockserver serve --state FILE --workers 2`, as a user runs it (in process, above, for both engines)
    target = str(tmp_path / "state.db")
    first = Server("--state", target, "--clock-speed", "0", "--workers", "2")
    servers.append(first.start())
    added = httpx.post(first.base + "/_mock/webhooks/endpoints", json={"provider": "anyapi", "key": KEY, "url": receiver.url}).json()
    created = [batch(first.base) for _ in range(3)]
    advance(first.base, 5)
    hits = receiver.wait_for(3, timeout=15)
    quiet(receiver, 3)  # one worker sent each, once
    assert sorted(json.loads(h.body)["data"]["id"] for h in hits) == sorted(created)
    first.stop()

    second = Server("--state", target, "--clock-speed", "0", port=first.port)
    servers.append(second.start())
    [endpoint] = httpx.get(second.base + "/_mock/webhooks/endpoints").json()["data"]
    assert (endpoint["id"], endpoint["secret"]) == (added["id"], added["secret"])
    log = httpx.get(second.base + "/_mock/webhooks/deliveries").json()["data"]
    assert sorted(r["subject"] for r in log) == sorted(created)
    assert all(r["state"] == "delivered" and [a["status"] for a in r["attempts"]] == [200] for r in log)
    later = batch(second.base)
    advance(second.base, 5)
    hits = receiver.wait_for(4, timeout=15)
    quiet(receiver, 4)  # the three delivered before the restart are not sent again
    event = openai.OpenAI(api_key="unused").webhooks.unwrap(hits[3].body, hits[3].headers, secret=added["secret"])
    assert event.data.id == later
