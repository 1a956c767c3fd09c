"""Deterministic, realistic per-line results: the response body each endpoint would have answered."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ...core.outcomes import digest
from .inputs import InputLine


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _prompt_text(body: dict[str, Any]) -> str:
    if isinstance(body.get("messages"), list):
        parts = []
        for m in body["messages"]:
            content = m.get("content") if isinstance(m, dict) else None
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts.extend(str(c.get("text", "")) for c in content if isinstance(c, dict))
        return " ".join(parts)
    for key in ("prompt", "input"):
        value = body.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return " ".join(v if isinstance(v, str) else str(v) for v in value)
    return ""


def _reply(line: InputLine, key: str, prompt_text: str | None = None) -> str:
    prompt = (_prompt_text(line.body) if prompt_text is None else prompt_text).strip().replace("\n", " ")
    snippet = prompt[:60] + ("..." if len(prompt) > 60 else "")
    return f"Mock response {key[:8]} to: {snippet}" if snippet else f"Mock response {key[:8]}."


def _chat(line: InputLine, key: str, created: int) -> dict[str, Any]:
    prompt_text = _prompt_text(line.body)  # once: the reply quotes it and the usage counts it
    text = _reply(line, key, prompt_text)
    prompt_tokens, completion_tokens = _tokens(prompt_text), _tokens(text)
    return {
        "id": f"chatcmpl-{key[:29]}",
        "object": "chat.completion",
        "created": created,
        "model": line.body.get("model", "gpt-4o-mini"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": f"fp_{key[29:39]}",
    }


def _completion(line: InputLine, key: str, created: int) -> dict[str, Any]:
    prompt_text = _prompt_text(line.body)  # once: the reply quotes it and the usage counts it
    text = _reply(line, key, prompt_text)
    prompt_tokens, completion_tokens = _tokens(prompt_text), _tokens(text)
    return {
        "id": f"cmpl-{key[:29]}",
        "object": "text_completion",
        "created": created,
        "model": line.body.get("model", "gpt-3.5-turbo-instruct"),
        "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
    }


def _embedding(line: InputLine, key: str, dimensions: int) -> dict[str, Any]:
    raw = line.body.get("input", "")
    inputs = raw if isinstance(raw, list) else [raw]
    asked = line.body.get("dimensions")
    dims: int = asked if isinstance(asked, int) and asked > 0 else dimensions
    data = []
    for i, _item in enumerate(inputs):
        seed = digest(key, i)
        vector = [round((int(digest(seed, d)[:8], 16) / 0xFFFFFFFF) * 2 - 1, 6) for d in range(dims)]
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        data.append({"object": "embedding", "index": i, "embedding": [round(v / norm, 6) for v in vector]})
    tokens = sum(_tokens(str(item)) for item in inputs)
    return {"object": "list", "data": data, "model": line.body.get("model", "text-embedding-3-small"), "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def _response(line: InputLine, key: str, created: int) -> dict[str, Any]:
    prompt_text = _prompt_text(line.body)
    text = _reply(line, key, prompt_text)
    input_tokens, output_tokens = _tokens(prompt_text), _tokens(text)
    return {
        "id": f"resp_{key[:40]}",
        "object": "response",
        "created_at": created,
        "status": "completed",
        "model": line.body.get("model", "gpt-4o-mini"),
        "output": [
            {
                "type": "message",
                "id": f"msg_{key[:40]}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
    }


def success_body(endpoint: str, line: InputLine, key: str, created: int, dimensions: int) -> dict[str, Any]:
    return body_builder(endpoint)(line, key, created, dimensions)


BodyBuilder = Callable[[InputLine, str, int, int], dict[str, Any]]


def body_builder(endpoint: str) -> BodyBuilder:
    """success_body for one endpoint, resolved once: (line, key, created, dimensions) -> body."""
    kind = endpoint.rstrip("/").split("/v1/")[-1].lstrip("/")
    if kind == "embeddings":
        return lambda line, key, created, dimensions: _embedding(line, key, dimensions)
    if kind == "completions":
        return lambda line, key, created, dimensions: _completion(line, key, created)
    if kind == "responses":
        return lambda line, key, created, dimensions: _response(line, key, created)
    return lambda line, key, created, dimensions: _chat(line, key, created)


_FAILURES = (
    (400, "invalid_request_error", "context_length_exceeded", "This model's maximum context length was exceeded (simulated failure)."),
    (500, "server_error", None, "The server had an error while processing your request (simulated failure)."),
    (429, "rate_limit_error", "rate_limit_exceeded", "Rate limit reached while processing this request (simulated failure)."),
)


def failure_body(key: str) -> tuple[int, dict[str, Any]]:
    status, kind, code, message = _FAILURES[int(key[:4], 16) % len(_FAILURES)]
    return status, {"error": {"message": message, "type": kind, "param": None, "code": code}}


def usage_of(body: dict[str, Any]) -> tuple[int, int]:
    """(input, output) tokens of one successful body, whatever the endpoint's usage shape."""
    usage = body.get("usage") or {}
    return (
        int(usage.get("prompt_tokens", usage.get("input_tokens", 0))),
        int(usage.get("completion_tokens", usage.get("output_tokens", 0))),
    )


_ANY_KEY = "0" * 64  # a reply's length does not depend on its key (the key shows as 8 hex digits)


def line_usage(endpoint: str, line: InputLine) -> tuple[int, int]:
    """``usage_of(success_body(endpoint, line, ...))`` without building the body (no reply text, no vector):
    what a batch's usage adds up without writing its output file. A test holds the two equal."""
    kind = endpoint.rstrip("/").split("/v1/")[-1].lstrip("/")
    if kind == "embeddings":
        raw = line.body.get("input", "")
        inputs = raw if isinstance(raw, list) else [raw]
        return sum(_tokens(str(item)) for item in inputs), 0
    return _tokens(_prompt_text(line.body)), _tokens(_reply(line, _ANY_KEY))
