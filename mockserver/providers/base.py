"""What a provider plugs into the server: its spec, its handlers, its auth and its error envelope."""

from __future__ import annotations

import functools
import gc
import json
import math
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import anyio.to_thread
import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from ..core.backend import Backend
from ..core.engine import Engine
from ..core.errors import MockError, Unauthenticated
from ..core.settings import Settings
from ..spec.loader import Operation
from ..spec.validation import ParsedRequest

P = TypeVar("P")


@dataclass
class Call:
    """Everything a handler needs about one request, parsed and validated."""

    provider: Provider
    operation: Operation
    request: Request
    engine: Engine
    path_params: dict[str, str]
    params: ParsedRequest = field(default_factory=ParsedRequest)
    namespace: str = ""
    request_id: str = ""
    body_bytes: int = 0  # the size of the request body as read

    @property
    def backend(self) -> Any:
        """This namespace's backend: a ``Backend`` of the provider's own concrete class, whose verbs the
        handler calls (typed ``Any`` so a handler can name that class: ``backend: RetellBackend = call.backend``)."""
        return self.engine.backend(self.provider.name, self.namespace)

    @property
    def body(self) -> Any:
        return self.params.body

    def query(self, name: str, default: Any = None) -> Any:
        return self.params.query.get(name, default)

    def scenario(self, asked: str | None = None) -> tuple[str | None, bool]:
        """The scenario this request gets and whether it asked for it: the ``X-Mock-Scenario`` header, else
        ``asked`` (a provider's own field, e.g. ``metadata.mock_scenario``), else the server's default."""
        choice = self.engine.scenarios.choose(self.request.headers.get("x-mock-scenario") or asked)
        return choice.name, choice.explicit

    def plan(self, plan_for: Callable[[str | None, Mapping[str, dict[str, Any]], bool], P]) -> P:
        """What ``plan_for(name, user scenarios, explicit)`` (a provider's ``scenarios.plan_for``) makes of the
        scenario this request gets (``scenario()``)."""
        name, explicit = self.scenario()
        return plan_for(name, self.engine.scenarios, explicit)


Handler = Callable[[Call], Awaitable[Response]]

R = TypeVar("R")

# inputs at least this large are worked on in a worker thread, so the event loop keeps answering other requests
OFF_LOOP_BYTES = 256 * 1024


_quiet_lock = threading.Lock()
_quiet = 0
_interval = 0.005


def _without_gc_pauses(work: Callable[..., R], *args: Any) -> R:
    """``work(*args)`` with the cyclic garbage collector paused, then what it built frozen (``gc.freeze``),
    and the interpreter's switch interval at 1 ms meanwhile.

    Building a million objects in a thread triggers full collections that walk the whole heap while holding
    the GIL (0.1-0.4 s each, measured): every request waits. The objects built are long-lived state, so they
    are moved out of the collector's sight instead; refcounting still frees them. The shorter switch interval
    lets the event loop take the GIL back sooner while the worker computes."""
    global _quiet, _interval
    with _quiet_lock:
        _quiet += 1
        if _quiet == 1:
            gc.disable()
            _interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_interval, 0.001))  # the event loop gets the GIL back within 1 ms, not 5
    try:
        return work(*args)
    finally:
        with _quiet_lock:
            _quiet -= 1
            if _quiet == 0:
                sys.setswitchinterval(_interval)
                gc.freeze()
                gc.enable()


async def off_loop(size: int, work: Callable[..., R], *args: Any) -> R:
    """``work(*args)``: in a worker thread when ``size`` (bytes or lines of input) is large, else at once (a
    thread hop costs more than small work). ``work`` must not touch shared state: it prepares, the caller
    (back on the loop) commits."""
    if size < OFF_LOOP_BYTES:
        return work(*args)
    return await anyio.to_thread.run_sync(functools.partial(_without_gc_pauses, work, *args))


def _has_nonfinite(value: Any) -> bool:
    """Whether NaN or an infinity hides anywhere in ``value`` (dicts, lists, tuples)."""
    kind = type(value)
    if kind is float:
        return not math.isfinite(value)
    if kind is not dict and kind is not list and kind is not tuple:
        return False
    stack = [value]
    while stack:
        node = stack.pop()
        for item in node.values() if type(node) is dict else node:
            kind = type(item)
            if kind is float:
                if not math.isfinite(item):
                    return True
            elif kind is dict or kind is list or kind is tuple:
                stack.append(item)
    return False


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON, once. NaN and Infinity are not JSON: ValueError, as ``json.dumps(allow_nan=False)``
    raises. orjson writes them as null, so a body with a null is searched for them; what orjson cannot write
    (integers beyond 64 bits, non-string keys) goes through the standard library as before."""
    try:
        body = orjson.dumps(data)
    except TypeError:
        try:
            return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        except UnicodeEncodeError:  # a lone surrogate that got past the request checks: still valid JSON, as \udXXX
            return json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode()
    if b"null" in body and _has_nonfinite(data):
        raise ValueError("Out of range float values are not JSON compliant")
    return body


class JSONBody(Response):
    """A JSON answer that keeps the object it was serialised from, so the pipeline checks that object
    against the spec without parsing the body again."""

    media_type = "application/json"

    def __init__(self, data: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> None:
        self.data = data
        super().__init__(dumps(data), status_code=status_code, headers=headers)


@dataclass
class StreamContext:
    """What a WebSocket stream handler gets besides the socket: ``wait(timeout)`` returns when the simulated
    clock changes, a write request was answered, or ``timeout`` real seconds passed (the server's one dispatcher
    wakes it; no timer exists per batch)."""

    provider: Provider
    engine: Engine
    path_params: dict[str, str]
    wait: Callable[[float], Awaitable[None]]


StreamHandler = Callable[[WebSocket, StreamContext], Awaitable[None]]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONBody(data, status_code=status, headers=headers)


def bearer_token(headers: Headers) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def check_key(provider: str, key: str | None, settings: Settings, missing: str, invalid: str) -> str:
    """The namespace for ``key``: any non-empty key, or one of the configured keys."""
    if not key or not key.strip():
        raise Unauthenticated(missing)
    allowed = settings.keys_for(provider)
    if allowed and key not in allowed:
        raise Unauthenticated(invalid)
    return key


def retry_after_headers(retry_after: float, now: float) -> dict[str, str]:
    """Retry-After (whole seconds on the wire) and retry-after-ms, which the openai and retell SDKs prefer,
    so sub-second waits survive the rounding (PROVIDERS.md sections 1.9, 5.3)."""
    return {"Retry-After": str(max(1, math.ceil(retry_after))), "retry-after-ms": str(max(1, round(retry_after * 1000)))}


@dataclass(frozen=True)
class View:
    """How the dashboard shows a provider's jobs (``providers/<name>/view.py``; state side, no HTTP).

    ``rows(backend, now)``: one summary per batch (id, kind, label, status, created, timeline, planned,
    progress, counts); ``detail(backend, batch_id, seed)``: one batch with its parts, or None. Reads are pure,
    so a view may bring lifecycles up to date; it never draws an id.
    """

    rows: Callable[[Any, float], list[dict[str, Any]]]
    detail: Callable[[Any, str, int], dict[str, Any] | None]


@dataclass(frozen=True)
class Observed:
    """One answered exchange as ``mockserver record`` hands it to a provider's fixture recorder (issue 22)."""

    operation_id: str
    path_params: dict[str, str]
    status: int
    request: Any  # the request's JSON body (None if it had none or another type)
    upload: bytes | None  # the file part of a multipart upload
    body: bytes  # the response body, as received


class FixtureRecorder(Protocol):
    """Turns recorded traffic into fixtures (``Provider.recorder``): ``observe`` every exchange in order, then
    ``fixtures()`` is the state last seen, as ``(kind, data)`` pairs that the backend's ``load_fixture`` takes, in
    the order they must be loaded."""

    def observe(self, exchange: Observed) -> None: ...

    def fixtures(self) -> list[tuple[str, dict[str, Any]]]: ...


@dataclass
class Provider:
    name: str
    prefix: str  # where its base URL lives on the server, e.g. "/anyapi/v1"
    spec_name: str
    handlers: dict[str, Handler]
    make_backend: Callable[[Engine], Backend]  # one per namespace, created when first used
    authenticate: Callable[[Headers, Settings], str]
    render_error: Callable[[MockError], Response]
    unsupported: dict[str, str] = field(default_factory=dict)  # operationId -> why
    # runs before authentication (e.g. Phaseo's "501 not implemented" mode)
    guard: Callable[[Call], None] | None = None
    # adds the provider's own response headers to every answer
    decorate: Callable[[Call | None, Response], None] | None = None
    # the headers a rate-limited (429) answer carries: (seconds to wait, now) -> headers
    retry_headers: Callable[[float, float], dict[str, str]] = retry_after_headers
    # what the dashboard shows of this provider's jobs (None: not shown)
    view: View | None = None
    # the largest file a multipart upload may carry, enforced while the body streams in (issue 12)
    upload_limit: Callable[[Settings], int] = lambda settings: settings.limits.max_file_bytes
    # the largest JSON body a request may carry (Anthropic's inline Message Batches take up to 256 MB)
    body_limit: Callable[[Settings], int] = lambda settings: settings.limits.max_json_body_bytes
    summary: str = ""
    # what the provider announces by webhook (a core.outbox.Announcer), None: no webhooks
    webhooks: Any = None
    # documented WebSocket streams: path under the prefix (starlette syntax) -> handler
    streams: dict[str, StreamHandler] = field(default_factory=dict)
    # what this provider changes of a backend it shares (openai_family's Dialect, which its handlers read
    # through the call's provider); None for a provider with a backend of its own
    dialect: object = None
    # what `mockserver record` makes of this provider's traffic for `serve --fixtures` (None: cassette only)
    recorder: Callable[[], FixtureRecorder] | None = None
