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
    return str(message)


def refuse_unstorable(value: Any, max_depth: int, where: str = "") -> None:
    """400 naming the field if parsed user JSON is nested too deep or holds text UTF-8 cannot carry (a lone
    surrogate): checked before schema validation and before anything is stored, so one request cannot poison
    a namespace's later answers (issue 12)."""
    problem = json_problem(value, max_depth, where)
    if problem is not None:
        field, what = problem
        raise InvalidRequest(f"Invalid value for '{field}': it {what}.", param=field)


# --- compiled once per operation --------------------------------------------------------------------
#
# Everything a request or response check needs that depends only on the spec (resolved parameter schemas,
# media types, required headers, schema pointers) is worked out once per operation and kept in
# ``Operation.compiled``; the schemas themselves are compiled into jsonschema-rs validators. python-jsonschema
# runs only when the compiled validator says no: to explain the failure (and to keep its verdict).


@dataclass(frozen=True, slots=True)
class ParamPlan:
    name: str
    where: str  # path | query | header
    schema: dict[str, Any]
    pointer: str | None  # the schema's pointer (None: the parameter declares no schema)
    required: bool
    array: bool


@dataclass(frozen=True, slots=True)
class BodyPlan:
    required: bool
    content: dict[str, Any]  # media type -> its node
    schemas: dict[str, str | None]  # media type -> schema pointer
    form_properties: dict[str, dict[str, Any]]  # media type -> properties (form media types)


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    required_headers: tuple[str, ...]
    content: dict[str, Any]
    json_schemas: dict[str, str]  # media type -> schema pointer, for JSON media types with a schema


def _param_plans(op: Operation) -> tuple[ParamPlan, ...]:
    plans = op.compiled.get("params")
    if plans is None:
        built = []
        for param, pointer in op.parameters:
            has_schema = "schema" in param
            schema_pointer = f"{pointer}/schema"
            schema = op.spec.lookup(schema_pointer) if has_schema else {}
            schema = op.spec.resolve(schema, schema_pointer)[0] if "$ref" in schema else schema
            built.append(ParamPlan(param["name"], param["in"], schema, schema_pointer if has_schema else None,
                                   bool(param.get("required")), "array" in _types(schema)))
        plans = op.compiled["params"] = tuple(built)
    return plans


def _body_plan(op: Operation) -> BodyPlan | None:
    if "body" not in op.compiled:
        declared = op.request_body
        plan = None
        if declared is not None:
            body_node, body_pointer = declared
            content: dict[str, Any] = body_node.get("content", {})
            schemas: dict[str, str | None] = {}
            properties: dict[str, dict[str, Any]] = {}
            for media, node in content.items():
                media_pointer = f"{body_pointer}/content/{media.replace('/', '~1')}"
                schema_node = node.get("schema")
                schemas[media] = f"{media_pointer}/schema" if schema_node is not None else None
                if media in ("multipart/form-data", "application/x-www-form-urlencoded"):
                    resolved = op.spec.resolve(schema_node, f"{media_pointer}/schema")[0] if schema_node else {}
                    properties[media] = resolved.get("properties", {})
            plan = BodyPlan(bool(body_node.get("required")), content, schemas, properties)
        op.compiled["body"] = plan
    return op.compiled["body"]  # type: ignore[no-any-return]


def _response_plan(op: Operation, status: int) -> ResponsePlan | None:
    key = ("response", status)
    if key not in op.compiled:
        declared = op.response(status)
        plan = None
        if declared is not None:
            node, pointer = declared
            required = []
            for name, header in (node.get("headers") or {}).items():
                header = op.spec.resolve(header, f"{pointer}/headers/{name}")[0]
                if header.get("required"):
                    required.append(name)
            content = node.get("content") or {}
            schemas = {
                media: f"{pointer}/content/{media.replace('/', '~1')}/schema"
                for media, media_node in content.items()
                if media_node.get("schema") is not None and (media == "application/json" or media.endswith("+json"))
            }
            plan = ResponsePlan(tuple(required), content, schemas)
        op.compiled[key] = plan
    return op.compiled[key]  # type: ignore[no-any-return]


def compile_operation(op: Operation) -> None:
    """Work out and compile everything an operation's checks need, so no request pays for it (start-up)."""
    for plan in _param_plans(op):
        if plan.pointer is not None:
            op.spec.fast_validator(plan.pointer)
    body = _body_plan(op)
    if body is not None:
        for pointer in body.schemas.values():
            if pointer is not None:
                op.spec.fast_validator(pointer)
    for status in op.declared_statuses():
        if status.isdigit():
            response = _response_plan(op, int(status))
            for pointer in response.json_schemas.values() if response else ():
                op.spec.fast_validator(pointer)


def conforms(op: Operation, pointer: str, value: Any) -> bool:
    """The compiled validator's verdict; a value it cannot take (e.g. an integer beyond 64 bits) is left to
    python-jsonschema, which decides."""
    try:
        return bool(op.spec.fast_validator(pointer).is_valid(value))
    except Exception:
        return False


# bodies at least this large are explained from the compiled validator's first error: python-jsonschema walks every
# item to pick its best match (16 s of event loop for one bad request among 100,000, measured), jsonschema-rs stops
EXPLAIN_FAST_BYTES = 256 * 1024


def check(op: Operation, pointer: str, value: Any, root: str, size: int = 0) -> None:
    if conforms(op, pointer, value):
        return
    if size >= EXPLAIN_FAST_BYTES:
        fast = _explain_fast(op, pointer, value, root)
        if fast is not None:
            raise InvalidRequest(fast[0], param=fast[1] or None)
    error = best_match(op.spec.validator(pointer).iter_errors(value))
    if error is not None:
        message, param = _explain(error, root)
        raise InvalidRequest(message, param=param or None)


def _explain_fast(op: Operation, pointer: str, value: Any, root: str) -> tuple[str, str] | None:
    """``_explain`` from jsonschema-rs's first error, in the same words (None: it found none, or failed)."""
    try:
        error = next(iter(op.spec.fast_validator(pointer).iter_errors(value)), None)
    except Exception:
        return None
    if error is None:
        return None
    path = ".".join(str(p) for p in error.instance_path)
    param = f"{root}.{path}" if root and path else (path or root)
    where = f"'{param}'" if param else "the request body"
    kind = type(error.kind).__name__
    if kind == "AdditionalProperties":
        extra = sorted(str(name) for name in error.kind.unexpected)
        names = ", ".join(repr(x) for x in extra)
        return f"Unrecognized request argument supplied: {names}.", (f"{param}.{extra[0]}" if param else extra[0])
    if kind == "Required":
        missing = str(error.kind.property).strip('"')
        full = f"{param}.{missing}" if param else missing
        return f"Missing required parameter: '{full}'.", full
    message = str(error.message)
    try:
        shown = json.dumps(error.instance, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        shown = ""
    if len(message) > 200:  # the message quotes the value: an excerpt of it instead
        message = excerpt(error.instance) + message[len(shown):] if shown and message.startswith(shown) else message[:200] + "..."
    return f"Invalid value for {where}: {message}", param


async def parse_request(op: Operation, request: Request, path_params: dict[str, str], max_depth: int = 64) -> ParsedRequest:
    parsed = ParsedRequest()
    for plan in _param_plans(op):
        name, where = plan.name, plan.where
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
            if plan.required:
                raise InvalidRequest(f"Missing required parameter: '{name}'.", param=name)
            continue
        if plan.array and len(raw_values) > 1:
            value: Any = [_coerce(v, plan.schema.get("items", {}), name) for v in raw_values]
        else:
            value = _coerce(raw_values[-1], plan.schema, name)
        if plan.pointer is not None:
            check(op, plan.pointer, value, name)
        getattr(parsed, where)[name] = value
    await _parse_body(op, request, parsed, max_depth)
    return parsed


_JSON_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def parse_json_body(raw: bytes) -> Any:
    """A JSON request body: NaN, Infinity and numbers that overflow a double are refused (ValueError)."""
    return _JSON_DECODER.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))


async def _parse_body(op: Operation, request: Request, parsed: ParsedRequest, max_depth: int = 64) -> None:
    plan = _body_plan(op)
    if plan is None:
        return
    content = plan.content
    raw_type = request.headers.get("content-type", "")
    media = raw_type.split(";")[0].strip().lower()
    has_body = bool(raw_type) or request.headers.get("content-length", "0") not in ("", "0") or request.headers.get("transfer-encoding")
    if not has_body:
        if plan.required:
            raise InvalidRequest("The request body is missing; expected " + " or ".join(content) + ".")
        return
    if media not in content:
        raise InvalidRequest(f"Invalid content type {media or '(none)'!r}: expected " + " or ".join(content) + ".")
    parsed.media_type = media
    size = 0  # of a JSON body: a large one is explained from the compiled validator (check)
    if media == "application/json" or media.endswith("+json"):
        raw = await request.body()
        size = len(raw)
        if not raw.strip():
            if plan.required:
                raise InvalidRequest("The request body is empty; expected a JSON object.")
            return
        try:
            parsed.body = parse_json_body(raw)
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
        properties = plan.form_properties.get(media, {})
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
    pointer = plan.schemas.get(media)
    if pointer is not None:
        check(op, pointer, parsed.body, "", size=size)


# --- responses -----------------------------------------------------------------------------------

NO_DATA: Any = object()  # response_problems' ``data`` when only the body's bytes are known


def response_problems(op: Operation, status: int, headers: dict[str, str], body: bytes, data: Any = NO_DATA) -> list[str]:
    """What in a response the spec does not allow (empty list: conforms).

    ``data`` is the Python object the JSON body was serialised from, when the caller has it: it is checked
    as it is, without parsing the body again."""
    plan = _response_plan(op, status)
    if plan is None:
        return [f"status {status} is not declared (declared: {', '.join(op.declared_statuses())})"]
    problems: list[str] = []
    lower = {k.lower(): v for k, v in headers.items()}
    for name in plan.required_headers:
        if name.lower() not in lower:
            problems.append(f"required header {name!r} is missing")
    content = plan.content
    if not content:
        if body:
            problems.append(f"status {status} declares no body but one was sent")
        return problems
    media = lower.get("content-type", "").split(";")[0].strip().lower()
    key = media if media in content else next((k for k in content if _media_matches(k, media)), None)
    if key is None:
        return [*problems, f"content type {media or '(none)'!r} is not declared (declared: {', '.join(content)})"]
    pointer = plan.json_schemas.get(key)
    if pointer is None:
        return problems
    if data is NO_DATA:
        try:
            data = json.loads(body, parse_constant=_reject_constant)
        except ValueError:
            return [*problems, "body is not valid JSON"]
    if conforms(op, pointer, data):
        return problems
    for error in op.spec.validator(pointer).iter_errors(data):
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        problems.append(f"body at {where}: {error.message}")
    return problems


def _media_matches(declared: str, actual: str) -> bool:
    if declared in ("*/*", actual):
        return True
    major, _, minor = declared.partition("/")
    return minor == "*" and actual.startswith(major + "/")

