"""Portkey gateway: OpenAI batches behind x-portkey-* auth, plus GET /batches/{id}/output."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import Response

from ...core.errors import InvalidRequest
from ...core.settings import Settings
from ..base import Call, Provider, View, bearer_token, check_key, retry_after_headers
from ..openai_family import recorded, view
from ..openai_family.dialect import BATCH_FIELDS, Dialect, request_id_header
from ..openai_family.webhooks import StandardWebhooks
from .errors import render_error
from .handlers import HANDLERS

SDK_PLACEHOLDER = "OPENAI_API_KEY"  # portkey-ai global_constants.OPEN_AI_API_KEY
ROUTING_HEADERS = ("x-portkey-virtual-key", "x-portkey-provider", "x-portkey-config")


def authenticate(headers: Headers, settings: Settings) -> str:
    """``x-portkey-api-key`` (what the portkey-ai SDK sends), else the AI gateway's ``Authorization: Bearer
    <portkey key>`` (portkey.ai/docs/aigw). Either way a routing header must name the provider."""
    bearer = bearer_token(headers)
    # the portkey-ai SDK's placeholder (its vendored openai client's api_key) is not a Portkey key
    key = headers.get("x-portkey-api-key") or (bearer if bearer != SDK_PLACEHOLDER else None)
    key = check_key("portkey", key, settings, "Portkey API Key Not Found", "Invalid API Key")
    if not any(headers.get(name) for name in ROUTING_HEADERS):
        raise InvalidRequest("Either x-portkey-config or x-portkey-provider header is required", extra={"gateway": True})
    return key


def decorate(call: Call | None, response: Response) -> None:
    if call is not None:
        response.headers.setdefault("x-portkey-trace-id", call.request_id.removeprefix("req_"))
        response.headers.setdefault("x-portkey-retry-attempt-count", "0")
    request_id_header(call, response)


def _duration(seconds: float) -> str:
    """OpenAI's x-ratelimit-reset-* format: 12ms, 1s, 6m0s."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:g}s" if minutes else f"{rest:g}s"


def retry_headers(retry_after: float, now: float) -> dict[str, str]:
    """The gateway passes the upstream (OpenAI) rate-limit headers through (PROVIDERS.md section 3.3)."""
    return retry_after_headers(retry_after, now) | {
        "x-ratelimit-limit-requests": "5000",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": _duration(retry_after),
    }


DIALECT = Dialect(name="portkey", batch_fields=frozenset(BATCH_FIELDS))


PROVIDER = Provider(
    name="portkey",
    prefix="/portkey/v1",
    spec_name="portkey",
    handlers=HANDLERS,
    make_backend=DIALECT.make_backend,
    authenticate=authenticate,
    render_error=render_error,
    decorate=decorate,
    retry_headers=retry_headers,
    view=View(view.rows, view.detail),
    summary="Portkey gateway batches and files (x-portkey-* auth, /output)",
    webhooks=StandardWebhooks("portkey", addition="OpenAI Standard-Webhooks batch events: an opt-in addition (Portkey documents no webhooks)"),
    dialect=DIALECT,
    recorder=recorded.recorder,
)
