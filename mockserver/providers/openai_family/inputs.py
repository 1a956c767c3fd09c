"""Validation of a batch input file (JSONL), as the real validating phase does it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from ...core.hostile import cannot_hold_problem, excerpt, json_problem

# orjson reads integers beyond 64 bits as floats where the standard library keeps them exact: a file with a
# run of 19 digits anywhere is read by the standard library (digits mapped to "0", then one substring search)
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0000000000")
_LONG_RUN = b"0" * 19


MAX_LINE_DEPTH = 64  # nesting a line may have (the fake walks and echoes each line's body)


class InputLine(NamedTuple):
    """One valid request of a batch (a named tuple: 50,000 of them are made per large input file)."""

    custom_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class LineError:
    code: str
    message: str
    line: int | None = None
    param: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "param": self.param, "line": self.line}


def _normalise(url: str) -> str:
    url = url.strip()
    return url if url.startswith("/") else "/v1/" + url


def validate_input(content: bytes, endpoint: str, max_requests: int, max_errors: int) -> tuple[list[InputLine], list[LineError]]:
    """The lines of a batch input file, or the errors that make the batch fail validation."""
    errors: list[LineError] = []
    lines: list[InputLine] = []
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return [], [LineError("invalid_file_format", "The input file is not valid UTF-8 text.")]
    raw_lines = [(n, raw) for n, raw in enumerate(text.splitlines(), start=1) if raw.strip()]
    if not raw_lines:
        return [], [LineError("empty_file", "The batch input file is empty.")]
    if len(raw_lines) > max_requests:
        return [], [LineError("too_many_tasks", f"The batch input file contains {len(raw_lines)} requests; the limit is {max_requests}.")]
    seen: set[str] = set()
    model: str | None = None
    want = _normalise(endpoint)
    loads = json.loads if _LONG_RUN in content.translate(_DIGITS_TO_ZERO) else _fast_loads
    for n, raw in raw_lines:
        if len(errors) >= max_errors:
            break
        try:
            item = loads(raw)
        except (ValueError, RecursionError):
            errors.append(LineError("invalid_json_line", "This line is not parseable as valid JSON.", n))
            continue
        problem = None if cannot_hold_problem(raw, MAX_LINE_DEPTH) else json_problem(item, MAX_LINE_DEPTH)
        if problem is not None:  # a lone surrogate would break the output file; deep nesting every walk of it
            errors.append(LineError("invalid_json_line", f"This line cannot be used: '{problem[0]}' {problem[1]}.", n, problem[0]))
            continue
        if not isinstance(item, dict):
            errors.append(LineError("invalid_json_line", "Each line must be a JSON object.", n))
            continue
        missing = [] if "custom_id" in item and "method" in item and "url" in item and "body" in item else [
            k for k in ("custom_id", "method", "url", "body") if k not in item
        ]
        if missing:
            errors.append(LineError("missing_required_parameter", f"missing required '{missing[0]}'", n, missing[0]))
            continue
        custom_id, method, url, body = item["custom_id"], item["method"], item["url"], item["body"]
        if not isinstance(custom_id, str) or not custom_id:
            errors.append(LineError("invalid_custom_id", "'custom_id' must be a non-empty string.", n, "custom_id"))
            continue
        if custom_id in seen:
            errors.append(LineError("duplicate_custom_id", f"The custom_id {excerpt(custom_id)} is used more than once in this batch.", n, "custom_id"))
            continue
        seen.add(custom_id)
        if method != "POST":
            errors.append(LineError("invalid_method", f"The method must be 'POST', got {excerpt(method)}.", n, "method"))
            continue
        if not isinstance(url, str) or (url != endpoint and _normalise(url) != want):
            errors.append(LineError("url_mismatch", f"The url {excerpt(url)} does not match the batch endpoint {endpoint!r}.", n, "url"))
            continue
        if not isinstance(body, dict):
            errors.append(LineError("invalid_body", "'body' must be a JSON object.", n, "body"))
            continue
        line_model = body.get("model")
        if isinstance(line_model, str):
            if model is None:
                model = line_model
            elif line_model != model:
                errors.append(LineError("model_mismatch", f"All requests in a batch must use the same model: expected {excerpt(model)}, got {excerpt(line_model)}.", n, "body.model"))
                continue
        lines.append(InputLine(custom_id, body))
    return (lines, []) if not errors else ([], errors)


def _fast_loads(raw: str) -> Any:
    """json.loads, faster: orjson for what it reads the same way; the rest (NaN, lone surrogates ...) as before."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)
