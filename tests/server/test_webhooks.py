"""Signed webhooks on the simulated clock, received by a real loopback server and verified with code written
from each provider's docs (Phaseo, FormantAI) or with the openai SDK (the Standard-Webhooks addition)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from mockserver.core.settings import Settings
from mockserver.server.live import LiveServer
from mockserver.testing.receiver import Received, WebhookReceiver

PHASEO_KEY = "aistats_v1_sk_demo_secret"
SECRET = "whsec_phaseo_test_secret"
QUIET = 0.4  # real seconds a test waits to see that nothing (more) arrives


@pytest.fixture
def server(frozen_server: LiveServer) -> LiveServer:
    """The session's strict live server (tests/conftest.py), emptied, its clock frozen."""
    return frozen_server


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rx:
        yield rx


def _lines(n: int) -> str:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    return "".join(json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}) + "\n" for i in range(n))


def phaseo(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url("phaseo"), headers={"Authorization": f"Bearer {PHASEO_KEY}"})


def phaseo_batch(client: httpx.Client, webhook: dict[str, Any] | None, lines: int = 4) -> dict[str, Any]:
    file = client.post("/files", files={"file": ("in.jsonl", _lines(lines))}, data={"purpose": "batch"}).json()
    body: dict[str, Any] = {"input_file_id": file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    if webhook is not None:
        body["webhook"] = webhook
    response = client.post("/batches", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def phaseo_verified(hit: Received, secret: str) -> dict[str, Any]:
    """Phaseo's documented check: hex HMAC-SHA256 of '{x-ai-stats-timestamp}.{raw body}' with the secret."""
    timestamp = hit.headers["x-ai-stats-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + hit.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, hit.headers["x-ai-stats-signature"]), "bad Phaseo signature"
    assert abs(int(timestamp) - time.time()) < 300
    return hit.json()


def formant_verified(hit: Received, secret: str) -> dict[str, Any]:
    """FormantAI's documented check: 'sha256=' + hex HMAC-SHA256 of the raw body with the secret."""
    expected = "sha256=" + hmac.new(secret.encode(), hit.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, hit.headers["x-formantai-signature"]), "bad FormantAI signature"
    return hit.json()


def settled(server: LiveServer, attempts: int, timeout: float = 3.0) -> list[dict[str, Any]]:
    """The deliveries once the dispatcher has recorded ``attempts`` attempts (a receiver sees a request before
    the dispatcher has its answer)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = httpx.get(server.url + "/_mock/webhooks/deliveries").json()["data"]
        if sum(len(r["attempts"]) for r in rows) >= attempts or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)


def advance_to(server: LiveServer, moment: float) -> None:
    server.engine.clock.advance(max(0.0, moment - server.engine.now()))


def quiet(receiver: WebhookReceiver, count: int) -> None:
    time.sleep(QUIET)
    assert len(receiver.requests) == count, [h.json().get("type") or h.json().get("event_type") for h in receiver.requests]


# -- Phaseo ------------------------------------------------------------------------------------------------


def test_phaseo_batch_events_arrive_signed_in_order_once_the_clock_passes_their_moments(server: LiveServer, receiver: WebhookReceiver) -> None:
    client = phaseo(server)
    batch = phaseo_batch(client, {"url": receiver.url, "secret": SECRET, "events": ["batch.progress", "batch.completed"]})
    quiet(receiver, 0)  # frozen clock: nothing has happened yet
    started = time.monotonic()
    server.engine.clock.advance(5)  # validating 1 s + in_progress 2 s + finalizing 1 s
    hits = receiver.wait_for(4, timeout=3)
    assert time.monotonic() - started < 1.0  # delivered within a second of the clock passing the moments
    events = [phaseo_verified(hit, SECRET) for hit in hits]
    assert [e["type"] for e in events] == ["batch.progress"] * 3 + ["batch.completed"]
    assert [e["data"]["progress"] for e in events] == [25, 50, 75, 100]
    assert [e["created_at"] for e in events] == sorted(e["created_at"] for e in events)
    assert {e["data"]["id"] for e in events} == {batch["id"]}
    assert [h.headers["x-ai-stats-delivery-key"] for h in hits] == [
        f"{batch['id']}:batch.progress:25", f"{batch['id']}:batch.progress:50", f"{batch['id']}:batch.progress:75", f"{batch['id']}:batch.completed",
    ]
    assert all(h.headers["x-ai-stats-event-id"] == e["id"] and h.headers["x-ai-stats-attempt"] == "1" for h, e in zip(hits, events))
    quiet(receiver, 4)
    settled(server, 4)
    webhook = client.get(f"/batches/{batch['id']}").json()["webhook"]
    assert "secret" not in webhook and webhook["has_secret"] is True
    assert webhook["delivery"]["delivered_events"] == 4 and webhook["delivery"]["total_attempts"] == 4
    assert webhook["delivery"]["delivered_event_types"] == ["batch.completed", "batch.progress"]


def test_phaseo_retries_after_a_500_on_its_schedule_and_the_batch_says_so(server: LiveServer, receiver: WebhookReceiver) -> None:
    client = phaseo(server)
    receiver.fail(1, status=500)
    batch = phaseo_batch(client, {"url": receiver.url, "secret": SECRET, "events": ["batch.completed"]})
    server.engine.clock.advance(5)
    [first] = receiver.wait_for(1)
    assert first.answered == 500
    settled(server, 1)
    webhook = client.get(f"/batches/{batch['id']}").json()["webhook"]
    assert webhook["delivery"]["pending_retries"] == 1 and webhook["delivery"]["last_response_status"] == 500
    assert webhook["attempts"][0]["status"] == "scheduled_retry"
    [delivery] = settled(server, 1)
    due = delivery["attempts"][0]["due_at"]  # the moment the batch completed
    advance_to(server, due + 29.5)
    quiet(receiver, 1)  # the retry is due 30 simulated seconds after the first attempt was due
    advance_to(server, due + 30)
    hits = receiver.wait_for(2)
    again = phaseo_verified(hits[1], SECRET)
    assert again["id"] == phaseo_verified(first, SECRET)["id"]  # the same event, the next attempt
    assert hits[1].headers["x-ai-stats-attempt"] == "2" and hits[1].headers["x-ai-stats-max-attempts"] == "5"
    assert hits[1].headers["x-ai-stats-delivery-key"] == first.headers["x-ai-stats-delivery-key"]
    [delivery] = settled(server, 2)
    assert [a["status"] for a in delivery["attempts"]] == [500, 200]
    assert delivery["attempts"][1]["due_at"] - delivery["attempts"][0]["due_at"] == pytest.approx(30.0)
    webhook = client.get(f"/batches/{batch['id']}").json()["webhook"]
    assert webhook["delivery"]["total_attempts"] == 2 and webhook["delivery"]["delivered_events"] == 1
    assert webhook["delivery"]["pending_retries"] == 0


def test_a_phaseo_webhook_without_events_gets_the_terminal_ones(server: LiveServer, receiver: WebhookReceiver) -> None:
    client = phaseo(server)
    batch = phaseo_batch(client, {"url": receiver.url, "secret": SECRET})
    assert client.post(f"/batches/{batch['id']}/cancel").status_code == 200
    server.engine.clock.advance(2)  # cancelling lasts 1 s
    [hit] = receiver.wait_for(1)
    assert phaseo_verified(hit, SECRET)["type"] == "batch.cancelled"
    quiet(receiver, 1)


# -- FormantAI ---------------------------------------------------------------------------------------------


def formant_endpoint(server: LiveServer, url: str, key: str = "formant-key", **extra: Any) -> dict[str, Any]:
    response = httpx.post(server.url + "/_mock/webhooks/endpoints", json={"provider": "formant", "key": key, "url": url, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def formant_batch(server: LiveServer, rows: int, scenario: str, key: str = "formant-key") -> int:
    csv = "customer_phone,customer_name\n" + "".join(f"+9198765{i:05d},Customer {i}\n" for i in range(rows))
    response = httpx.post(
        server.base_url("formant") + "/v1/batch-call", data={"agent_id": "7", "name": "Follow ups"},
        files={"file": ("contacts.csv", csv, "text/csv")}, headers={"Authorization": f"Bearer {key}", "X-Mock-Scenario": scenario},
    )
    assert response.status_code == 200, response.text
    return int(response.json()["data"]["id"])


def test_formant_call_events_are_signed_and_carry_their_retry_details(server: LiveServer, receiver: WebhookReceiver) -> None:
    server.engine.scenarios.update({"always_busy": {"outcomes": {"busy": 1}, "max_attempts": 2}})
    endpoint = formant_endpoint(server, receiver.url)
    batch_id = formant_batch(server, 1, "always_busy")
    server.engine.clock.advance(4)  # 1 s pending, the first attempt ends within the 2 s slot
    [hit] = receiver.wait_for(1)
    event = formant_verified(hit, endpoint["secret"])
    assert event["event_type"] == "call.busy" == hit.headers["x-formantai-event-type"]
    assert hit.headers["x-formantai-event-id"] == event["event_id"]
    retry = event["data"]["retry"]
    assert retry["attempt_number"] == 1 and retry["is_final_attempt"] is False and retry["max_attempts"] == 2
    assert retry["next_retry_at"] is not None
    assert event["data"]["call"]["to_phone"] == "+919876500000" and event["data"]["call"]["agent_id"] == 7
    server.engine.clock.advance(10)  # the call is dialled again 5 s after it ended (durations.retry_delay)
    hits = receiver.wait_for(2)
    last = formant_verified(hits[1], endpoint["secret"])
    assert last["data"]["retry"]["attempt_number"] == 2 and last["data"]["retry"]["is_final_attempt"] is True
    assert last["event_id"] != event["event_id"]
    assert batch_id == 1


def test_formant_deliveries_are_retried_immediately_then_30_s_then_300_s_later(server: LiveServer, receiver: WebhookReceiver) -> None:
    endpoint = formant_endpoint(server, receiver.url)
    receiver.fail(2, status=503)
    formant_batch(server, 1, "all_success")
    server.engine.clock.advance(4)
    [first] = receiver.wait_for(1)
    assert first.answered == 503
    due = settled(server, 1)[0]["attempts"][0]["due_at"]  # the moment the call ended
    advance_to(server, due + 29.5)
    quiet(receiver, 1)
    advance_to(server, due + 30)
    assert receiver.wait_for(2)[1].answered == 503
    advance_to(server, due + 329)
    quiet(receiver, 2)
    advance_to(server, due + 330)
    hits = receiver.wait_for(3)
    assert hits[2].answered == 200
    assert len({formant_verified(h, endpoint["secret"])["event_id"] for h in hits}) == 1  # dedupe by event_id works
    [delivery] = settled(server, 3)
    due = [a["due_at"] for a in delivery["attempts"]]
    assert [round(b - a, 6) for a, b in zip(due, due[1:])] == [30.0, 300.0]
    assert delivery["state"] == "delivered" and delivery["attempts"][0]["error"] == "HTTP 503"
    assert all(a["latency_ms"] >= 0 for a in delivery["attempts"]) and delivery["attempts"][2]["response_excerpt"]
    quiet(receiver, 3)


def test_formant_gives_up_after_three_attempts_and_does_not_retry_a_400(server: LiveServer, receiver: WebhookReceiver) -> None:
    formant_endpoint(server, receiver.url)
    receiver.fail(1, status=400)
    formant_batch(server, 1, "all_success")
    server.engine.clock.advance(4)
    receiver.wait_for(1)
    server.engine.clock.advance(400)
    quiet(receiver, 1)
    [delivery] = settled(server, 1)
    assert delivery["state"] == "failed" and delivery["attempts"][0]["outcome"] == "failed_permanently"


def test_an_unreachable_endpoint_is_retried_and_recorded_as_a_connection_error(server: LiveServer) -> None:
    with WebhookReceiver() as gone:
        url = gone.url  # a free port nobody listens on once the receiver stops
    formant_endpoint(server, url)
    formant_batch(server, 1, "all_success")
    server.engine.clock.advance(4)
    rows = settled(server, 1)
    attempt = rows[0]["attempts"][0]
    assert attempt["status"] is None and attempt["error"] and attempt["outcome"] == "scheduled_retry"


# -- the OpenAI-compatible addition --------------------------------------------------------------------------


def test_openai_sdk_unwraps_the_standard_webhooks_addition_for_anyapi(server: LiveServer, receiver: WebhookReceiver) -> None:
    response = httpx.post(server.url + "/_mock/webhooks/endpoints", json={"provider": "anyapi", "key": "sk-anyapi", "url": receiver.url})
    secret = response.json()["secret"]
    assert secret.startswith("whsec_")
    client = openai.OpenAI(base_url=server.base_url("anyapi"), api_key="sk-anyapi")
    other = openai.OpenAI(base_url=server.base_url("anyapi"), api_key="sk-no-endpoint")
    batches = []
    for sdk in (client, other):
        file = sdk.files.create(file=("in.jsonl", _lines(2).encode()), purpose="batch")
        batches.append(sdk.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"))
    server.engine.clock.advance(5)
    [hit] = receiver.wait_for(1)
    event = client.webhooks.unwrap(hit.body, hit.headers, secret=secret)
    assert event.type == "batch.completed" and event.data.id == batches[0].id
    assert event.id == hit.headers["webhook-id"]
    with pytest.raises(openai.InvalidWebhookSignatureError):
        client.webhooks.unwrap(hit.body, hit.headers, secret="whsec_" + "A" * 32)
    quiet(receiver, 1)  # the key without an endpoint gets nothing: AnyAPI documents no webhooks


def test_portkey_cancelled_event_through_the_addition(server: LiveServer, receiver: WebhookReceiver) -> None:
    endpoint = httpx.post(
        server.url + "/_mock/webhooks/endpoints",
        json={"provider": "portkey", "key": "pk-key", "url": receiver.url, "events": ["batch.cancelled"]},
    ).json()
    headers = {"x-portkey-api-key": "pk-key", "x-portkey-provider": "openai"}
    client = openai.OpenAI(base_url=server.base_url("portkey"), api_key="unused", default_headers=headers)
    file = client.files.create(file=("in.jsonl", _lines(2).encode()), purpose="batch")
    batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
    client.batches.cancel(batch.id)
    server.engine.clock.advance(5)
    [hit] = receiver.wait_for(1)
    event = client.webhooks.unwrap(hit.body, hit.headers, secret=endpoint["secret"])
    assert event.type == "batch.cancelled" and event.data.id == batch.id


# -- control: admin API, pause, redeliver, faults -----------------------------------------------------------


def test_endpoints_that_cannot_work_are_refused_with_a_reason(server: LiveServer) -> None:
    url = server.url + "/_mock/webhooks/endpoints"
    for body, words in (
        ({"provider": "phaseo", "key": "k", "url": "http://127.0.0.1:9/"}, "each batch is created with"),
        ({"provider": "retell", "key": "k", "url": "http://127.0.0.1:9/"}, "documents no webhooks"),
        ({"provider": "formant", "key": "k", "url": "ftp://x"}, "http(s) URL"),
        ({"provider": "formant", "key": "k", "url": "http://127.0.0.1:9/", "events": ["call.nope"]}, "unknown event type"),
        ({"provider": "formant", "url": "http://127.0.0.1:9/"}, "'key'"),
        ({"provider": "nobody", "key": "k", "url": "http://127.0.0.1:9/"}, "no provider"),
    ):
        response = httpx.post(url, json=body)
        assert response.status_code == 400 and words in response.json()["error"]["message"], (body, response.text)
    assert httpx.get(url).json()["data"] == []


def test_pause_holds_deliveries_and_resume_sends_them(server: LiveServer, receiver: WebhookReceiver) -> None:
    formant_endpoint(server, receiver.url)
    assert httpx.post(server.url + "/_mock/webhooks/pause").json() == {"paused": True}
    formant_batch(server, 2, "all_success")
    server.engine.clock.advance(10)
    quiet(receiver, 0)
    httpx.post(server.url + "/_mock/webhooks/resume")
    assert len(receiver.wait_for(2)) == 2


def test_redeliver_sends_the_same_event_once_more(server: LiveServer, receiver: WebhookReceiver) -> None:
    formant_endpoint(server, receiver.url)
    formant_batch(server, 1, "all_success")
    server.engine.clock.advance(4)
    [first] = receiver.wait_for(1)
    [delivery] = settled(server, 1)
    assert httpx.post(server.url + f"/_mock/webhooks/deliveries/{delivery['id']}/redeliver").status_code == 202
    hits = receiver.wait_for(2)
    assert hits[1].json()["event_id"] == first.json()["event_id"]
    assert httpx.post(server.url + "/_mock/webhooks/deliveries/whd_nope/redeliver").status_code == 404


def test_faults_send_duplicates_and_out_of_order_events_on_purpose(server: LiveServer, receiver: WebhookReceiver) -> None:
    formant_endpoint(server, receiver.url)
    assert httpx.post(server.url + "/_mock/webhooks/faults", json={"duplicates": 1, "reorder": True}).status_code == 200
    formant_batch(server, 3, "all_success")
    server.engine.clock.advance(10)  # the three calls end at different moments; all are due at once
    hits = receiver.wait_for(4)
    ids = [h.json()["event_id"] for h in hits]
    assert len(set(ids)) == 3 and ids[0] == ids[1]  # the first delivery came twice
    ended = [h.json()["data"]["call"]["ended_at"] for h in hits[1:]]
    assert ended == sorted(ended, reverse=True)  # newest first
    assert httpx.post(server.url + "/_mock/webhooks/faults", json={"duplicates": -1}).status_code == 400


# -- what the design promises --------------------------------------------------------------------------------


def test_one_dispatcher_task_whatever_the_number_of_batches(server: LiveServer, receiver: WebhookReceiver) -> None:
    client = phaseo(server)
    phaseo_batch(client, {"url": receiver.url, "secret": SECRET})
    dispatcher = server.app.state.webhooks
    loop = dispatcher._loop

    async def tasks() -> list[str]:
        return [t.get_name() for t in asyncio.all_tasks()]

    before = asyncio.run_coroutine_threadsafe(tasks(), loop).result(5)
    for _ in range(20):
        phaseo_batch(client, {"url": receiver.url, "secret": SECRET, "events": ["batch.progress", "batch.completed"]})
    after = asyncio.run_coroutine_threadsafe(tasks(), loop).result(5)
    assert after.count("mockserver:webhooks") == before.count("mockserver:webhooks") == 1
    assert len(after) <= len(before) + 1  # no task per batch (a connection may come and go)
    server.engine.clock.advance(5)
    assert len(receiver.wait_for(1 + 20 * 4, timeout=10)) == 81


def test_deriving_and_delivering_events_changes_no_id_or_answer(server: LiveServer, receiver: WebhookReceiver) -> None:
    def run(webhook: dict[str, Any] | None) -> list[Any]:
        server.engine.reset()
        client = phaseo(server)
        first = phaseo_batch(client, webhook)
        server.engine.clock.advance(5)
        if webhook:
            receiver.wait_for(4)
        time.sleep(0.1)
        second = phaseo_batch(client, webhook)
        done = client.get(f"/batches/{first['id']}").json()
        return [first["id"], second["id"], done["output_file_id"], second["input_file_id"], done["request_counts"]]

    with_hooks = run({"url": receiver.url, "secret": SECRET, "events": ["batch.progress", "batch.completed"]})
    assert with_hooks == run(None)


def test_only_loopback_hosts_get_deliveries_unless_allowed(server: LiveServer) -> None:
    formant_endpoint(server, "http://203.0.113.5/hook")  # TEST-NET-3: must never be contacted
    formant_batch(server, 1, "all_success")
    server.engine.clock.advance(4)
    [delivery] = settled(server, 1)
    [attempt] = delivery["attempts"]
    assert attempt["refused"] is True and "not an allowed host" in attempt["error"] and delivery["state"] == "failed"
    server.engine.clock.advance(400)
    assert len(settled(server, 2, timeout=QUIET)[0]["attempts"]) == 1  # refused once, never retried
    allowed = httpx.post(server.url + "/_mock/webhooks/hosts", json={"hosts": ["host.docker.internal"]}).json()["allowed_hosts"]
    assert "host.docker.internal" in allowed and "127.0.0.1" in allowed
    assert httpx.post(server.url + "/_mock/webhooks/hosts", json={"hosts": "x"}).status_code == 400


def test_with_a_running_clock_events_arrive_by_real_time_without_any_advance(server: LiveServer, receiver: WebhookReceiver) -> None:
    client = phaseo(server)
    phaseo_batch(client, {"url": receiver.url, "secret": SECRET, "events": ["batch.completed"]})
    server.engine.clock.set_speed(10.0)  # the batch completes 4 simulated seconds after its creation: 0.4 s real
    try:
        started = time.monotonic()
        [hit] = receiver.wait_for(1, timeout=3)
        assert time.monotonic() - started < 1.5
        assert phaseo_verified(hit, SECRET)["type"] == "batch.completed"
    finally:
        server.engine.clock.set_speed(0.0)


def test_a_batch_preloaded_by_a_fixture_announces_nothing(server: LiveServer, receiver: WebhookReceiver) -> None:
    httpx.post(server.url + "/_mock/webhooks/endpoints", json={"provider": "anyapi", "key": "sk-fixture", "url": receiver.url})
    server.engine.backend("anyapi", "sk-fixture").load_fixture("batch", {"id": "batch_done", "status": "completed"})
    server.engine.backend("anyapi", "sk-fixture").load_fixture("batch", {"id": "batch_running", "status": "in_progress"})
    server.engine.clock.advance(3_600)
    httpx.post(server.url + "/_mock/webhooks/resume")  # any write wakes the dispatcher
    quiet(receiver, 0)


def test_the_overview_states_each_providers_schedule_and_which_is_an_addition(server: LiveServer) -> None:
    overview = httpx.get(server.url + "/_mock/webhooks").json()
    providers = overview["providers"]
    assert set(providers) == {"openai", "anyapi", "portkey", "phaseo", "formant"}  # Retell and Anthropic document none
    assert providers["formant"]["retry_delays"] == [30.0, 300.0] and providers["formant"]["timeout"] == 10.0
    assert providers["formant"]["addition"] is None and "opt-in addition" in providers["anyapi"]["addition"]
    assert providers["phaseo"]["to"] == "the URL each object is created with" and "our choice" in providers["phaseo"]["schedule_source"]
    assert overview["paused"] is False and "127.0.0.1" in overview["allowed_hosts"]
    endpoint = formant_endpoint(server, "http://127.0.0.1:9/hook", secret="mine", events=["call.completed"])
    assert endpoint["secret"] == "mine" and endpoint["events"] == ["call.completed"]
    listed = httpx.get(server.url + "/_mock/webhooks/endpoints", params={"provider": "formant"}).json()["data"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert httpx.delete(server.url + f"/_mock/webhooks/endpoints/{endpoint['id']}").json() == {"deleted": True}
    assert httpx.delete(server.url + f"/_mock/webhooks/endpoints/{endpoint['id']}").status_code == 404


# -- the dispatcher ends with its app --------------------------------------------------------------------------


def _in_a_thread(target: Any, seconds: float = 10.0) -> bool:
    """Whether ``target`` returned within ``seconds`` (a hang must fail the test, not stall the suite)."""
    import threading

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive()


def test_asyncio_run_ends_although_the_dispatcher_was_woken_as_the_loop_ended() -> None:
    # the last request pokes the dispatcher just before the loop cancels every task: the cancellation and the
    # wake-up land together (Python 3.11's wait_for dropped the cancellation; asyncio.run then waited forever)
    from mockserver.server.app import create_app

    app = create_app(Settings(clock_speed=0.0))
    dispatcher = app.state.webhooks

    async def serve_and_end() -> None:
        dispatcher.ensure_started()
        await asyncio.sleep(0.05)  # its first look is done: it waits for the next moment
        dispatcher.poke()

    assert _in_a_thread(lambda: asyncio.run(asyncio.wait_for(serve_and_end(), 5)))
    assert not dispatcher.running


def test_the_dispatcher_task_ends_with_the_live_server(receiver: WebhookReceiver) -> None:
    server = LiveServer(Settings(clock_speed=0.0)).start()
    phaseo_batch(phaseo(server), {"url": receiver.url, "secret": SECRET})
    dispatcher = server.app.state.webhooks
    assert dispatcher.running
    thread = server._thread
    received = len(receiver.wait_for(0))
    assert _in_a_thread(server.stop, 15)
    assert thread is not None and not thread.is_alive()
    assert not dispatcher.running
    ticks = dispatcher.ticks
    server.engine.clock.advance(60)  # nothing is looked at, nothing logged, once the server is gone
    time.sleep(0.1)
    assert dispatcher.ticks == ticks and len(receiver.wait_for(0)) == received


def test_a_test_client_stops_the_dispatcher_at_the_lifespan_shutdown() -> None:
    from starlette.testclient import TestClient

    from mockserver.server.app import create_app

    app = create_app(Settings(clock_speed=0.0))
    with TestClient(app) as client:
        assert client.post("/phaseo/v1/files", headers={"Authorization": f"Bearer {PHASEO_KEY}"}, files={"file": ("in.jsonl", _lines(1))},
                           data={"purpose": "batch"}).status_code == 200
        assert app.state.webhooks.running
    assert not app.state.webhooks.running
