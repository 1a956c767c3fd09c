"""Deterministic, realistic per-line results: the response body each endpoint would have answered."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import orjson

from ...core.outcomes import digest
from . import bodies
from .inputs import InputLine


def _tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)  # ceil(len / 4)


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


def _chat_values(line: InputLine, key: str, created: int) -> tuple[Any, ...]:
    prompt_text = _prompt_text(line.body)  # once: the reply quotes it and the usage counts it
    text = _reply(line, key, prompt_text)
    prompt_tokens, completion_tokens = _tokens(prompt_text), _tokens(text)
    model = line.body.get("model", "gpt-4o-mini")
    return f"chatcmpl-{key[:29]}", created, model, text, prompt_tokens, completion_tokens, prompt_tokens + completion_tokens, f"fp_{key[29:39]}"


def _chat_shape(
    id: Any, created: Any, model: Any, text: Any, prompt_tokens: Any, completion_tokens: Any, total_tokens: Any, fingerprint: Any
) -> dict[str, Any]:
    return {
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
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
            "total_tokens": total_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": fingerprint,
    }


def _completion_values(line: InputLine, key: str, created: int) -> tuple[Any, ...]:
    prompt_text = _prompt_text(line.body)  # once: the reply quotes it and the usage counts it
    text = _reply(line, key, prompt_text)
    prompt_tokens, completion_tokens = _tokens(prompt_text), _tokens(text)
    model = line.body.get("model", "gpt-3.5-turbo-instruct")
    return f"cmpl-{key[:29]}", created, model, text, prompt_tokens, completion_tokens, prompt_tokens + completion_tokens


def _completion_shape(id: Any, created: Any, model: Any, text: Any, prompt_tokens: Any, completion_tokens: Any, total_tokens: Any) -> dict[str, Any]:
    return {
        "id": id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": total_tokens},
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


def _echo(body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    """A request field the Response object repeats, when it has the type the SDK's model wants, else ``default``."""
    value = body.get(name)
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        return default  # True is an int to isinstance, not to the SDK's strict models
    return value if not isinstance(value, float) or math.isfinite(value) else default


def _metadata(body: dict[str, Any]) -> dict[str, str]:
    metadata = body.get("metadata")
    return metadata if isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values()) else {}


def _response_values(line: InputLine, key: str, created: int) -> tuple[Any, ...]:
    body = line.body
    prompt_text = _prompt_text(body)
    text = _reply(line, key, prompt_text)
    input_tokens, output_tokens = _tokens(prompt_text), _tokens(text)
    model = body.get("model", "gpt-4o-mini")
    tool_choice = body.get("tool_choice")
    return (
        f"resp_{key[:40]}", created, created, _echo(body, "instructions", str, None), _echo(body, "max_output_tokens", int, None),
        _metadata(body), model, f"msg_{key[:40]}", text, _echo(body, "parallel_tool_calls", bool, True),
        _echo(body, "previous_response_id", str, None), _echo(body, "temperature", (int, float), 1.0),
        tool_choice if tool_choice in ("none", "auto", "required") else "auto", _echo(body, "top_p", (int, float), 1.0),
        input_tokens, output_tokens, input_tokens + output_tokens,
    )


def _response_shape(
    id: Any, created: Any, completed: Any, instructions: Any, max_output_tokens: Any, metadata: Any, model: Any, message_id: Any,
    text: Any, parallel_tool_calls: Any, previous_response_id: Any, temperature: Any, tool_choice: Any, top_p: Any,
    input_tokens: Any, output_tokens: Any, total_tokens: Any,
) -> dict[str, Any]:
    """The fields of OpenAI's Response object (the openai SDK's ``Response`` requires ``parallel_tool_calls``,
    ``tool_choice``, ``tools`` and ``usage.input_tokens_details.cache_write_tokens``); ``tools`` is always
    empty: the fake calls no tool."""
    return {
        "id": id,
        "object": "response",
        "created_at": created,
        "status": "completed",
        "background": False,
        "completed_at": completed,
        "error": None,
        "incomplete_details": None,
        "instructions": instructions,
        "max_output_tokens": max_output_tokens,
        "metadata": metadata,
        "model": model,
        "output": [
            {
                "type": "message",
                "id": message_id,
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
            }
        ],
        "parallel_tool_calls": parallel_tool_calls,
        "previous_response_id": previous_response_id,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": temperature,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": tool_choice,
        "tools": [],
        "top_p": top_p,
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": total_tokens,
        },
        "user": None,
    }


def success_body(endpoint: str, line: InputLine, key: str, created: int, dimensions: int) -> dict[str, Any]:
    return body_builder(endpoint)(line, key, created, dimensions)


BodyBuilder = Callable[[InputLine, str, int, int], dict[str, Any]]
Values = Callable[[InputLine, str, int], tuple[Any, ...]]
Shape = Callable[..., dict[str, Any]]

# the endpoints whose body is a shape filled with values (the embeddings' vector is computed whole)
_SHAPED: dict[str, tuple[Values, Shape]] = {
    "chat/completions": (_chat_values, _chat_shape),
    "completions": (_completion_values, _completion_shape),
    "responses": (_response_values, _response_shape),
}


def _embedding_body(line: InputLine, key: str, created: int, dimensions: int) -> dict[str, Any]:
    return _embedding(line, key, dimensions)


# the endpoints whose body is built whole (a vector, a list of results or images)
_WHOLE: dict[str, BodyBuilder] = {
    "embeddings": _embedding_body,
    "moderations": bodies.moderation,
    "images/generations": bodies.image,
    "images/edits": bodies.image,
    "videos": bodies.video,
}

# every batch endpoint of OpenAI's Batch API (its kind: the path after /v1/); a dialect accepts those its spec lists
KINDS = (*_SHAPED, *_WHOLE)


def kind_of(endpoint: str) -> str:
    """``/v1/chat/completions`` (or ``chat/completions``) -> ``chat/completions``."""
    return endpoint.rstrip("/").split("/v1/")[-1].lstrip("/")



def body_builder(endpoint: str) -> BodyBuilder:
    """success_body for one endpoint, resolved once: (line, key, created, dimensions) -> body. An endpoint
    that is none of ``KINDS`` (a fixture's) is answered as a chat completion."""
    kind = kind_of(endpoint)
    if kind in _WHOLE:
        return _WHOLE[kind]
    values, shape = _SHAPED.get(kind, _SHAPED["chat/completions"])
    return lambda line, key, created, dimensions: shape(*values(line, key, created))


def row_json(row: dict[str, Any]) -> bytes:
    """One line of a result file: compact JSON by orjson (ten times the standard library's speed on a 41 MB
    output); what orjson refuses (an integer beyond 64 bits echoed from a request) by the standard library."""
    try:
        return orjson.dumps(row)
    except TypeError:
        return json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode()


def _success_row(row_id: Any, custom_id: Any, request_id: Any, body: Any) -> dict[str, Any]:
    return {"id": row_id, "custom_id": custom_id, "response": {"status_code": 200, "request_id": request_id, "body": body}, "error": None}


RowWriter = Callable[[InputLine, str, int, int], bytes]


def success_row_writer(endpoint: str) -> RowWriter:
    """(line, key, created, dimensions) -> the output file's line for a request that succeeded: the bytes of
    ``row_json`` of its row, written faster for the shaped endpoints. Their row (``_success_row`` around the
    body shape) is serialised once with a placeholder string per value; the placeholders, quotes included,
    are where each line's values go, each as orjson writes it (what it would write inside the whole row). A
    value orjson refuses sends that line through ``row_json``."""
    build = body_builder(endpoint)

    def by_dict(line: InputLine, key: str, created: int, dimensions: int) -> bytes:
        return row_json(_success_row(f"batch_req_{key[:32]}", line.custom_id, "req_" + key[32:64], build(line, key, created, dimensions)))

    kind = kind_of(endpoint)
    if kind in _WHOLE:
        return by_dict
    values, shape = _SHAPED.get(kind, _SHAPED["chat/completions"])
    template = _template(shape)
    dumps = orjson.dumps

    def by_template(line: InputLine, key: str, created: int, dimensions: int) -> bytes:
        try:
            return template % (dumps(f"batch_req_{key[:32]}"), dumps(line.custom_id), dumps("req_" + key[32:64]), *map(dumps, values(line, key, created)))
        except TypeError:
            return by_dict(line, key, created, dimensions)

    return by_template


_TEMPLATES: dict[Shape, bytes] = {}


def _template(shape: Shape) -> bytes:
    """``orjson.dumps(_success_row(..., shape(...)))`` as a %-format with one ``%s`` per value, in order."""
    template = _TEMPLATES.get(shape)
    if template is None:
        count = shape.__code__.co_argcount
        marks = [f"@@slot{i}@@" for i in range(3 + count)]
        text = orjson.dumps(_success_row(marks[0], marks[1], marks[2], shape(*marks[3:])))
        pieces = []
        for mark in marks:
            quoted = b'"' + mark.encode() + b'"'
            if text.count(quoted) != 1:
                raise AssertionError(f"{shape.__name__}: each value must appear once in the row, {mark} does not")
            before, _, text = text.partition(quoted)
            pieces.append(before)
        pieces.append(text)
        template = _TEMPLATES[shape] = b"%s".join(piece.replace(b"%", b"%%") for piece in pieces)
    return template


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
    return usage_counter(endpoint)(line)


def usage_counter(endpoint: str) -> Callable[[InputLine], tuple[int, int]]:
    """``line_usage`` for one endpoint, resolved once."""
    return _USAGE.get(kind_of(endpoint), _text_usage)


def _embedding_usage(line: InputLine) -> tuple[int, int]:
    raw = line.body.get("input", "")
    inputs = raw if isinstance(raw, list) else [raw]
    return sum(_tokens(str(item)) for item in inputs), 0


def _text_usage(line: InputLine) -> tuple[int, int]:
    prompt_text = _prompt_text(line.body)
    return _tokens(prompt_text), _tokens(_reply(line, _ANY_KEY, prompt_text))


_USAGE: dict[str, Callable[[InputLine], tuple[int, int]]] = {
    "embeddings": _embedding_usage,
    "moderations": bodies.moderation_usage,
    "images/generations": bodies.image_usage,
    "images/edits": bodies.image_usage,
    "videos": bodies.video_usage,
}


def example_body(endpoint: str, i: int) -> dict[str, Any]:
    """The request body of line ``i`` of a fixture's batch on ``endpoint``."""
    kind = kind_of(endpoint)
    if kind == "embeddings":
        return {"model": "text-embedding-3-small", "input": f"Example text {i + 1}"}
    if kind == "completions":
        return {"model": "gpt-3.5-turbo-instruct", "prompt": f"Example prompt {i + 1}"}
    if kind == "responses":
        return {"model": "gpt-4o-mini", "input": f"Example question {i + 1}"}
    other = bodies.example_body(kind, i)
    return other if other is not None else {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Example question {i + 1}"}]}
