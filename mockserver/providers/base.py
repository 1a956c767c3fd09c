"""What a provider plugs into the server: its spec, its handlers, its auth and its error envelope."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from ..core.engine import Engine
from ..core.errors import MockError, Unauthenticated
from ..core.settings import Settings
from ..spec.loader import Operation
from ..spec.validation import ParsedRequest


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

    @property
    def backend(self) -> Any:
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


Handler = Callable[[Call], Awaitable[Response]]


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
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def bearer_token(headers: Headers) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def check_key(provider: str, key: str | None, settings: Settings, missing: str, invalid: str) -> str:
    """The namespace for ``key``: any non-empty key, or one of the configured keys."""
    if not key:
        raise Unauthenticated(missing)
    allowed = settings.keys_for(provider)
    if allowed and key not in allowed:
        raise Unauthenticated(invalid)
    return key


def retry_after_headers(retry_after: float, now: float) -> dict[str, str]:
    """Retry-After (whole seconds on the wire) and retry-after-ms, which the openai and retell SDKs prefer,
    so sub-second waits survive the rounding (PROVIDERS.md sections 1.9, 5.3)."""
    return {"Retry-After": str(max(1, math.ceil(retry_after))), "retry-after-ms": str(max(1, round(retry_after * 1000)))}


@dataclass
class Provider:
    name: str
    prefix: str  # where its base URL lives on the server, e.g. "/anyapi/v1"
    spec_name: str
    handlers: dict[str, Handler]
    make_backend: Callable[[Engine], Any]
    authenticate: Callable[[Headers, Settings], str]
    render_error: Callable[[MockError], Response]
    unsupported: dict[str, str] = field(default_factory=dict)  # operationId -> why
    # runs before authentication (e.g. Phaseo's "501 not implemented" mode)
    guard: Callable[[Call], None] | None = None
    # adds the provider's own response headers to every answer
    decorate: Callable[[Call | None, Response], None] | None = None
    # the headers a rate-limited (429) answer carries: (seconds to wait, now) -> headers
    retry_headers: Callable[[float, float], dict[str, str]] = retry_after_headers
    summary: str = ""
    # what the provider announces by webhook (a core.outbox.Announcer), None: no webhooks
    webhooks: Any = None
    # documented WebSocket streams: path under the prefix (starlette syntax) -> handler
    streams: dict[str, StreamHandler] = field(default_factory=dict)
