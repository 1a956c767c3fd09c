"""The seven providers as the hostile suite sees them: how to authenticate, what the error envelope looks like,
a valid create, and the reads that must still answer for the same key after a hostile request."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.core.settings import Settings
from mockserver.server.app import create_app

JSONL_LINE = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", "messages": []}}
CSV = b"customer_phone,name\n+919876543210,Asha\n"
DEFINITION = {"name": "n", "response_engine": {"type": "retell-llm", "llm_id": "llm_1"}, "user_prompt": "p", "metrics": ["m"]}


def _openai_envelope(body: Any, status: int) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and isinstance(error.get("message"), str) and isinstance(error.get("type"), str) and error.get("code") == status


def _portkey_envelope(body: Any, status: int) -> bool:
    if not isinstance(body, dict):
        return False
    if body.get("status") == "failure":
        return isinstance(body.get("message"), str)
    error = body.get("error")
    return body.get("provider") == "openai" and isinstance(error, dict) and isinstance(error.get("message"), str)


def _phaseo_envelope(body: Any, status: int) -> bool:
    return isinstance(body, dict) and body.get("status_code") == status and isinstance(body.get("description"), str) and body.get("error_origin") == "gateway"


def _openai_own_envelope(body: Any, status: int) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and set(error) == {"message", "type", "param", "code"} and isinstance(error["message"], str)


def _anthropic_envelope(body: Any, status: int) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return body.get("type") == "error" and isinstance(error, dict) and isinstance(error.get("type"), str) and isinstance(error.get("message"), str)


def _message_batch() -> dict[str, Any]:
    return {"requests": [{"custom_id": "a", "params": {"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}}]}


def _retell_envelope(body: Any, status: int) -> bool:
    return isinstance(body, dict) and body.get("status") == "error" and isinstance(body.get("message"), str) and set(body) == {"status", "message"}


def _formant_envelope(body: Any, status: int) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and isinstance(error.get("message"), str) and isinstance(error.get("type"), str)


@dataclass(frozen=True)
class Profile:
    name: str
    prefix: str
    auth: Callable[[str], dict[str, str]]
    envelope: Callable[[Any, int], bool]
    probes: tuple[str, ...]  # GETs that must answer 200 for the same key afterwards
    json_path: str  # an operation that takes a JSON body
    json_method: str
    valid_json: Callable[[], dict[str, Any]]
    upload_path: str | None  # an operation that takes a multipart upload
    upload_fields: dict[str, str] = field(default_factory=dict)
    upload_name: str = "in.jsonl"
    upload_content: bytes = b""
    get_template: str = ""  # a read by id: {id}
    string_fields: tuple[tuple[str, ...], ...] = ()  # where a string lives in valid_json (a path of keys)
    list_path: str = ""  # a GET collection (for method and query abuse)
    limit_param: str = "limit"
    large_bodies: bool = False  # its documented JSON body limit is above the suite's BIG body (Anthropic: 256 MB)

    def url(self, path: str) -> str:
        return self.prefix + path


def _openai_json() -> dict[str, Any]:
    return {"input_file_id": "file-missing", "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {"k": "v"}}


PROFILES = {
    "anyapi": Profile(
        "anyapi", "/anyapi/v1", lambda key: {"Authorization": f"Bearer {key}"}, _openai_envelope,
        ("/batches",), "/batches", "POST", _openai_json, "/files", {"purpose": "batch"}, "in.jsonl",
        json.dumps(JSONL_LINE).encode() + b"\n", "/batches/{id}", (("metadata", "k"), ("endpoint",), ("completion_window",)), "/batches",
    ),
    "portkey": Profile(
        "portkey", "/portkey/v1", lambda key: {"x-portkey-api-key": key, "x-portkey-provider": "openai"}, _portkey_envelope,
        ("/batches", "/files"), "/batches", "POST", _openai_json, "/files", {"purpose": "batch"}, "in.jsonl",
        json.dumps(JSONL_LINE).encode() + b"\n", "/batches/{id}", (("metadata", "k"), ("endpoint",), ("completion_window",)), "/batches",
    ),
    "phaseo": Profile(
        "phaseo", "/phaseo/v1", lambda key: {"Authorization": f"Bearer {key}"}, _phaseo_envelope,
        ("/batches", "/files"), "/batches", "POST", _openai_json, "/files", {"purpose": "batch"}, "in.jsonl",
        json.dumps(JSONL_LINE).encode() + b"\n", "/batches/{id}", (("metadata", "k"), ("endpoint",), ("completion_window",)), "/batches",
    ),
    "openai": Profile(
        "openai", "/openai/v1", lambda key: {"Authorization": f"Bearer {key}"}, _openai_own_envelope,
        ("/batches", "/files"), "/batches", "POST", _openai_json, "/files", {"purpose": "batch"}, "in.jsonl",
        json.dumps(JSONL_LINE).encode() + b"\n", "/batches/{id}", (("metadata", "k"), ("endpoint",), ("completion_window",)), "/batches",
    ),
    "anthropic": Profile(
        "anthropic", "/anthropic", lambda key: {"x-api-key": key, "anthropic-version": "2023-06-01"}, _anthropic_envelope,
        ("/v1/messages/batches",), "/v1/messages/batches", "POST", _message_batch, None,
        get_template="/v1/messages/batches/{id}",
        string_fields=(("requests", 0, "params", "model"), ("requests", 0, "params", "messages", 0, "content")),
        list_path="/v1/messages/batches", large_bodies=True,
    ),
    "retell": Profile(
        "retell", "/retell", lambda key: {"Authorization": f"Bearer {key}"}, _retell_envelope,
        ("/v2/list-test-case-definitions?type=retell-llm&llm_id=llm_1", "/v2/list-batch-tests?type=retell-llm&llm_id=llm_1"),
        "/create-test-case-definition", "POST", lambda: json.loads(json.dumps(DEFINITION)), None,
        get_template="/get-test-case-definition/{id}",
        string_fields=(("name",), ("user_prompt",), ("metrics", 0), ("response_engine", "llm_id")),
        list_path="/v2/list-test-case-definitions?type=retell-llm&llm_id=llm_1",
    ),
    "formant": Profile(
        "formant", "/formant", lambda key: {"Authorization": f"Bearer {key}"}, _formant_envelope,
        ("/v1/batch-calls",), "/v1/batch-call", "POST", lambda: {"agent_id": 1, "name": "n"}, "/v1/batch-call",
        {"agent_id": "1", "name": "n"}, "contacts.csv", CSV, "/v1/batch-calls/{id}", (), "/v1/batch-calls",
    ),
}


@pytest.fixture(scope="session")
def hostile_client() -> TestClient:
    """One in-process fake for the suite: strict (a response that breaks the fake's own spec fails the test)."""
    app = create_app(Settings(response_validation="strict", clock_speed=0.0))
    return TestClient(app, raise_server_exceptions=True)


@pytest.fixture
def key() -> str:
    """A fresh API key, so each case has its own namespace (and its own rate-limit window)."""
    return f"hostile-{uuid.uuid4().hex[:12]}"
