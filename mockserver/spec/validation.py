"""Requests are checked against their operation before a handler sees them; responses after it answers."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from ..core.errors import InvalidRequest, MockError
from ..core.hostile import excerpt, json_problem
from .loader import Operation

_BINARY = "<binary>"


@dataclass
class ParsedRequest:
    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    files: dict[str, UploadFile] = field(default_factory=dict)
    media_type: str | None = None


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (RFC 8259), whatever Python's parser tolerates."""
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} does not fit a double")
    return value


def _types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type")
    if isinstance(t, list):
        return [x for x in t if x != "null"]
    if isinstance(t, str):
        return [t]
    return []


def _coerce(raw: str, schema: dict[str, Any], name: str) -> Any:
    """A text value (query, path, header, form field) turned into the type its schema declares."""
    for kind in _types(schema) or ["string"]:
        if kind == "integer":
            try:
                return int(raw)
            except ValueError:
                continue
        elif kind == "number":
            try:
                return float(raw)
            except ValueError:
                continue
        elif kind == "boolean":
            if raw.lower() in ("true", "false"):
                return raw.lower() == "true"
        elif kind == "string":
            return raw
        elif kind == "array":
            return [_coerce(v, schema.get("items", {}), name) for v in raw.split(",")]
    expected = " or ".join(_types(schema)) or "string"
    raise InvalidRequest(f"Invalid type for '{name}': expected {'an' if expected[0] in 'aeiou' else 'a'} {expected}, but got {excerpt(raw)}.", param=name)


def _explain(error: ValidationError, root: str) -> tuple[str, str]:
    path = ".".join(str(p) for p in error.absolute_path)
    param = f"{root}.{path}" if root and path else (path or root)
    where = f"'{param}'" if param else "the request body"
    if error.validator == "additionalProperties" and error.validator_value is False:
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        names = ", ".join(repr(x) for x in extra)
        return f"Unrecognized request argument supplied: {names}.", (f"{param}.{extra[0]}" if param else extra[0])
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        full = f"{param}.{missing}" if param else missing
        return f"Missing required parameter: '{full}'.", full
    return f"Invalid value for {where}: {_short_message(error)}", param


def _short_message(error: ValidationError) -> str:
    """jsonschema's message quotes the whole bad value; a 50 MB string must not come back in the error."""
    message = error.message
    if len(message) > 200:
        shown = repr(error.instance)
        message = message.replace(shown, excerpt(error.instance)) if shown in message else message[:200] + "..."
    return message


def refuse_unstorable(value: Any, max_depth: int, where: str = "") -> None:
    """400 naming the field if parsed user JSON is nested too deep or holds text UTF-8 cannot carry (a lone
    surrogate): checked before schema validation and before anything is stored, so one request cannot poison
    a namespace's later answers (issue 12)."""
    problem = json_problem(value, max_depth, where)
    if problem is not None:
        field, what = problem
        raise InvalidRequest(f"Invalid value for '{field}': it {what}.", param=field)


def check(op: Operation, pointer: str, value: Any, root: str) -> None:
    error = best_match(op.spec.validator(pointer).iter_errors(value))
    if error is not None:
        message, param = _explain(error, root)
        raise InvalidRequest(message, param=param or None)


async def parse_request(op: Operation, request: Request, path_params: dict[str, str], max_depth: int = 64) -> ParsedRequest:
    parsed = ParsedRequest()
    for param, pointer in op.parameters:
        name, where = param["name"], param["in"]
        schema_pointer = f"{pointer}/schema"
        schema = op.spec.lookup(schema_pointer) if "schema" in param else {}
        schema = op.spec.resolve(schema, schema_pointer)[0] if "$ref" in schema else schema
        if where == "path":
            raw_values = [path_params[name]] if name in path_params else []
        elif where == "query":
            raw_values = request.query_params.getlist(name)
        elif where == "header":
            if name.lower() == "authorization":
                continue  # credentials are the security layer's business
            raw_values = [request.headers[name]] if name in request.headers else []
        else:
            continue
        refuse_unstorable(raw_values, 2, name)
        if not raw_values:
            if param.get("required"):
                raise InvalidRequest(f"Missing required parameter: '{name}'.", param=name)
            continue
        if "array" in _types(schema) and len(raw_values) > 1:
            value: Any = [_coerce(v, schema.get("items", {}), name) for v in raw_values]
        else:
            value = _coerce(raw_values[-1], schema, name)
        if "schema" in param:
            check(op, schema_pointer, value, name)
        getattr(parsed, where)[name] = value
    await _parse_body(op, request, parsed, max_depth)
    return parsed


async def _parse_body(op: Operation, request: Request, parsed: ParsedRequest, max_depth: int = 64) -> None:
    declared = op.request_body
    if declared is None:
        return
    body_node, body_pointer = declared
    content: dict[str, Any] = body_node.get("content", {})
    raw_type = request.headers.get("content-type", "")
    media = raw_type.split(";")[0].strip().lower()
    has_body = bool(raw_type) or request.headers.get("content-length", "0") not in ("", "0") or request.headers.get("transfer-encoding")
    if not has_body:
        if body_node.get("required"):
            raise InvalidRequest("The request body is missing; expected " + " or ".join(content) + ".")
        return
    if media not in content:
        raise InvalidRequest(f"Invalid content type {media or '(none)'!r}: expected " + " or ".join(content) + ".")
    parsed.media_type = media
    media_pointer = f"{body_pointer}/content/{media.replace('/', '~1')}"
    schema_node = content[media].get("schema")
    if media == "application/json" or media.endswith("+json"):
        raw = await request.body()
        if not raw.strip():
            if body_node.get("required"):
                raise InvalidRequest("The request body is empty; expected a JSON object.")
            return
        try:
            parsed.body = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise InvalidRequest(
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
                "HTTP library correctly. The API expects a JSON payload, but what was sent was not valid JSON.)"
            ) from None
        refuse_unstorable(parsed.body, max_depth)
    elif media in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            form = await request.form()
        except MultiPartException as exc:
            raise InvalidRequest(f"Malformed {media} body: {exc.message}") from None
        except MockError:
            raise  # the body was too large or too slow (the server's receive guard): not a parse error
        except Exception as exc:  # python-multipart's parse errors, starlette's "Missing boundary" ...: all the client's
            detail = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
            raise InvalidRequest(f"Malformed {media} body: {excerpt(str(detail), 200)}") from None
        properties = (op.spec.resolve(schema_node, f"{media_pointer}/schema")[0] if schema_node else {}).get("properties", {})
        data: dict[str, Any] = {}
        for key, value in form.multi_items():
            refuse_unstorable(key, 1, "form field name")
            if isinstance(value, UploadFile):
                refuse_unstorable(value.filename or "", 1, f"{key} (file name)")
                parsed.files[key] = value
                data[key] = _BINARY
            else:
                refuse_unstorable(value, 1, key)
                prop = properties.get(key, {})
                data[key] = _coerce(value, prop, key) if _types(prop) and "string" not in _types(prop) else value
        parsed.body = data
    else:
        parsed.body = await request.body()
        return
    if schema_node is not None:
        check(op, f"{media_pointer}/schema", parsed.body, "")


# --- responses -----------------------------------------------------------------------------------


def response_problems(op: Operation, status: int, headers: dict[str, str], body: bytes) -> list[str]:
    """What in a response the spec does not allow (empty list: conforms)."""
    declared = op.response(status)
    if declared is None:
        return [f"status {status} is not declared (declared: {', '.join(op.declared_statuses())})"]
    node, pointer = declared
    problems: list[str] = []
    lower = {k.lower(): v for k, v in headers.items()}
    for name, header in (node.get("headers") or {}).items():
        header = op.spec.resolve(header, f"{pointer}/headers/{name}")[0]
        if header.get("required") and name.lower() not in lower:
            problems.append(f"required header {name!r} is missing")
    content = node.get("content") or {}
    if not content:
        if body:
            problems.append(f"status {status} declares no body but one was sent")
        return problems
    media = lower.get("content-type", "").split(";")[0].strip().lower()
    key = media if media in content else next((k for k in content if _media_matches(k, media)), None)
    if key is None:
        return [*problems, f"content type {media or '(none)'!r} is not declared (declared: {', '.join(content)})"]
    schema = content[key].get("schema")
    if schema is None or not (key == "application/json" or key.endswith("+json")):
        return problems
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except ValueError:
        return [*problems, "body is not valid JSON"]
    media_pointer = f"{pointer}/content/{key.replace('/', '~1')}/schema"
    for error in op.spec.validator(media_pointer).iter_errors(value):
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        problems.append(f"body at {where}: {error.message}")
    return problems


def _media_matches(declared: str, actual: str) -> bool:
    if declared in ("*/*", actual):
        return True
    major, _, minor = declared.partition("/")
    return minor == "*" and actual.startswith(major + "/")

