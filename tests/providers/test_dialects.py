"""What each OpenAI-compatible provider does differently, over raw HTTP (in-process, strict)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mockserver.core.settings import Settings
from mockserver.server.app import create_app
from tests.conftest import jsonl

AUTH = {
    "anyapi": {"Authorization": "Bearer k"},
    "phaseo": {"Authorization": "Bearer k"},
    "portkey": {"x-portkey-api-key": "k", "x-portkey-virtual-key": "vk"},
}
PREFIX = {"anyapi": "/anyapi/v1", "portkey": "/portkey/v1", "phaseo": "/phaseo/v1"}


def envelope_message(provider: str, body: dict) -> str:
    if provider == "anyapi":
        return body["error"]["message"]
    if provider == "portkey":
        return body["error"]["message"] if "error" in body else body["message"]
    return body["description"]


def create(client: TestClient, provider: str, lines: int = 2) -> dict:
    files = {"file": ("in.jsonl", jsonl(lines))}
    file = client.post(f"{PREFIX[provider]}/files", headers=AUTH[provider], data={"purpose": "batch"}, files=files).json()
    body = {"input_file_id": file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    r = client.post(f"{PREFIX[provider]}/batches", headers=AUTH[provider], json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_anyapi_error_envelope_has_an_integer_code(client: TestClient) -> None:
    r = client.get("/anyapi/v1/batches/nope", headers=AUTH["anyapi"])
    assert r.status_code == 404
    assert r.json() == {"error": {"code": 404, "message": "No batch found with id 'nope'.", "type": "not_found", "metadata": {"param": "batch_id"}}}
    r = client.get("/anyapi/v1/batches")
    assert r.status_code == 401 and r.json()["error"]["code"] == 401 and r.json()["error"]["type"] == "authentication_error"


def test_anyapi_batch_object_is_the_documented_one(client: TestClient) -> None:
    batch = create(client, "anyapi")
    assert "errors" not in batch and "usage" not in batch and "model" not in batch
    assert set(batch) >= {"id", "object", "status", "request_counts", "expires_at", "cancelled_at"}
    cancelled = client.post(f"/anyapi/v1/batches/{batch['id']}/cancel", headers=AUTH["anyapi"]).json()
    assert cancelled == {"id": batch["id"], "object": "batch", "status": "cancelled"}


def test_portkey_needs_its_own_headers_not_a_bearer(client: TestClient) -> None:
    r = client.get("/portkey/v1/batches", headers={"Authorization": "Bearer OPENAI_API_KEY"})
    assert r.status_code == 401 and r.json() == {"status": "failure", "message": "Portkey API Key Not Found"}
    r = client.get("/portkey/v1/batches", headers={"x-portkey-api-key": "k"})
    assert r.status_code == 400 and r.json()["message"] == "Either x-portkey-config or x-portkey-provider header is required"
    r = client.get("/portkey/v1/batches", headers={"x-portkey-api-key": "k", "x-portkey-provider": "openai"})
    assert r.status_code == 200 and r.headers["x-portkey-trace-id"]
    # the AI gateway's login (portkey.ai/docs/aigw): the Portkey key as a bearer, with x-portkey-provider
    r = client.get("/portkey/v1/batches", headers={"Authorization": "Bearer pk-aigw", "x-portkey-provider": "@openai-prod"})
    assert r.status_code == 200
    r = client.get("/portkey/v1/batches", headers={"Authorization": "Bearer pk-aigw"})
    assert r.status_code == 400 and r.json()["message"] == "Either x-portkey-config or x-portkey-provider header is required"


def test_portkey_output_before_completion_and_for_a_failed_batch(client: TestClient) -> None:
    batch = create(client, "portkey")
    r = client.get(f"/portkey/v1/batches/{batch['id']}/output", headers=AUTH["portkey"])
    assert r.status_code == 404 and "no output file yet" in r.json()["error"]["message"]
    bad = client.post("/portkey/v1/files", headers=AUTH["portkey"], data={"purpose": "batch"}, files={"file": ("in.jsonl", b"{oops\n")}).json()
    failed = client.post("/portkey/v1/batches", headers=AUTH["portkey"], json={"input_file_id": bad["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}).json()
    client.app.state.engine.clock.advance(5)  # type: ignore[attr-defined]
    r = client.get(f"/portkey/v1/batches/{failed['id']}/output", headers=AUTH["portkey"])
    assert r.status_code == 200 and b"invalid_json_line" in r.content


def test_phaseo_extended_object_and_status_filter(client: TestClient) -> None:
    body = {"session_id": "s-1", "webhook": {"url": "http://127.0.0.1:9/hook", "secret": "whsec_x", "events": ["batch.completed"]}}
    files = {"file": ("in.jsonl", jsonl(2))}
    file = client.post("/phaseo/v1/files", headers=AUTH["phaseo"], data={"purpose": "batch"}, files=files).json()
    created = client.post(
        "/phaseo/v1/batches", headers=AUTH["phaseo"], json={"input_file_id": file["id"], "endpoint": "chat/completions", "completion_window": "24h", **body}
    ).json()
    assert created["endpoint"] == "chat/completions" and created["session_id"] == "s-1"  # echoed as given, as the docs' example
    assert created["status"] == "queued"  # the docs' status words
    hook = created["webhook"]
    assert {k: hook[k] for k in ("url", "events", "has_secret")} == {"url": "http://127.0.0.1:9/hook", "events": ["batch.completed"], "has_secret": True}
    assert hook["delivery"]["total_attempts"] == 0 and hook["attempts"] == []  # nothing has happened yet
    assert "secret" not in created["webhook"] and "whsec_x" not in str(created)
    assert created["lifecycle_status"] == "pending" and created["billing"]["billed"] is False
    assert client.get("/phaseo/v1/batches?status=queued", headers=AUTH["phaseo"]).json()["data"][0]["id"] == created["id"]
    assert client.get("/phaseo/v1/batches?status=completed", headers=AUTH["phaseo"]).json()["data"] == []
    for query in ("status=completed&status=queued", "status=failed,pending", "statuses=queued", "status=failed&statuses=pending"):
        assert [b["id"] for b in client.get(f"/phaseo/v1/batches?{query}", headers=AUTH["phaseo"]).json()["data"]] == [created["id"]], query
    client.app.state.engine.clock.advance(60)  # type: ignore[attr-defined]
    done = client.get(f"/phaseo/v1/batches/{created['id']}", headers=AUTH["phaseo"]).json()
    assert done["lifecycle_status"] == "completed" and done["progress"] == 100
    base = "http://testserver/phaseo/v1"
    assert done["polling_url"] == f"{base}/batches/{created['id']}" and done["cancel_url"] == f"{base}/batches/{created['id']}/cancel"
    assert done["websocket_url"] == f"ws://testserver/phaseo/v1/async/batch/{created['id']}/ws"
    assert done["billing"]["billed"] is True and done["billing"]["cost_nanos"] > 0 and done["pricing_lines"]
    r = client.get("/phaseo/v1/batches?status=bogus", headers=AUTH["phaseo"])
    assert r.status_code == 400 and r.json()["error"] == "validation_error"


def test_phaseo_501_mode_reproduces_the_documented_answer() -> None:
    with TestClient(create_app(Settings(response_validation="strict", phaseo_mode="not_implemented"))) as client:
        r = client.get("/phaseo/v1/batches/abc", headers=AUTH["phaseo"])
        assert r.status_code == 501
        assert r.json() == {"ok": False, "error": "not_implemented", "message": "Not implemented yet"}


@pytest.mark.parametrize("provider", ["anyapi", "portkey", "phaseo"])
def test_bad_input_gets_the_providers_envelope_and_the_server_keeps_serving(client: TestClient, provider: str) -> None:
    p, h = PREFIX[provider], AUTH[provider]
    cases = [
        client.post(f"{p}/batches", headers={**h, "content-type": "application/json"}, content=b"{not json"),
        client.post(f"{p}/batches", headers={**h, "content-type": "text/plain"}, content=b"hello"),
        client.post(f"{p}/batches", headers=h, json={"input_file_id": "f", "completion_window": "24h"}),
        client.post(f"{p}/batches", headers=h, json={"input_file_id": "f", "endpoint": "/v1/chat/completions", "completion_window": "24h", "colour": "red"}),
        client.post(f"{p}/batches", headers=h, json={"input_file_id": "f", "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {"k" * 65: "v"}}),
        client.post(f"{p}/batches", headers=h, json={"input_file_id": "f", "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {"k": "v" * 513}}),
        client.post(f"{p}/files", headers=h, data={"purpose": "batch"}, files={"file": ("x.txt", b"plain text")}),
        client.post(f"{p}/files", headers=h, data={"purpose": "batch"}),
        client.post(f"{p}/files", headers={**h, "content-type": "multipart/form-data; boundary=B"}, content=b"--B\r\nTrue--B--\r\n"),
        client.post(f"{p}/files", headers={**h, "content-type": "multipart/form-data"}, content=b"no boundary"),
        client.get(f"{p}/batches?limit=0", headers=h),
        client.get(f"{p}/batches?limit=abc", headers=h),
    ]
    for r in cases:
        assert r.status_code == 400, r.text
        assert envelope_message(provider, r.json())
    assert client.post(f"{p}/batches", headers=h, json={"input_file_id": "file-nope", "endpoint": "/v1/chat/completions", "completion_window": "24h"}).status_code == 404
    assert client.get(f"{p}/batches", headers=h).status_code == 200


@pytest.mark.parametrize("provider", ["anyapi", "portkey", "phaseo"])
def test_undeclared_methods_get_405_with_allow_and_unknown_paths_404(client: TestClient, provider: str) -> None:
    r = client.request("PUT", f"{PREFIX[provider]}/batches", headers=AUTH[provider])
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "POST"}
    r = client.get(f"{PREFIX[provider]}/nothing-here", headers=AUTH[provider])
    assert r.status_code == 404 and envelope_message(provider, r.json())
    r = client.get(f"{PREFIX[provider]}/files/%0Aabc", headers=AUTH[provider])  # a newline in a path parameter
    assert r.status_code == 404 and envelope_message(provider, r.json())
    assert r.headers["x-mock-server"].startswith("mockserver/")
