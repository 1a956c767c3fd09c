"""Anthropic Message Batches as the server mounts it: base URL ``/anthropic`` (paths keep their ``/v1/``, as
``https://api.anthropic.com``). Anthropic documents no webhooks for batches: none are sent."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import Response

from ...core.errors import InvalidRequest
from ...core.settings import Settings
from ..base import Call, Provider, View, bearer_token, check_key
from . import view
from .errors import render_error
from .handlers import HANDLERS
from .models import AnthropicBackend


def authenticate(headers: Headers, settings: Settings) -> str:
    """``x-api-key`` (the API reference), else ``Authorization: Bearer <key>`` (what the anthropic SDK 2.x sends
    for an ``api_key`` or an ``auth_token``)."""
    key = headers.get("x-api-key") or bearer_token(headers)
    namespace = check_key("anthropic", key, settings, "x-api-key header is required", "invalid x-api-key")
    if not headers.get("anthropic-version", "").strip():
        raise InvalidRequest("anthropic-version: header is required")
    return namespace


def decorate(call: Call | None, response: Response) -> None:
    """``request-id``, which the anthropic SDK reads into ``_request_id`` and its errors' ``request_id``."""
    if call is not None:
        response.headers.setdefault("request-id", call.request_id)


PROVIDER = Provider(
    name="anthropic",
    prefix="/anthropic",
    spec_name="anthropic",
    handlers=HANDLERS,
    make_backend=AnthropicBackend,
    authenticate=authenticate,
    render_error=render_error,
    decorate=decorate,
    view=View(view.rows, view.detail),
    body_limit=lambda settings: settings.limits.max_message_batch_bytes,
    summary="Anthropic Message Batches: inline requests, processing status, JSONL results",
)
