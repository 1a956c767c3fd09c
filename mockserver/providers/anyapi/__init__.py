"""AnyAPI: OpenAI-compatible batches, with a narrower endpoint enum, a one-step cancel and int error codes."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers

from ...core.settings import Settings
from ..base import Call, Provider, View, bearer_token, check_key
from ..openai_family import recorded, view
from ..openai_family.dialect import Dialect, request_id_header
from ..openai_family.webhooks import StandardWebhooks
from .errors import render_error
from .handlers import HANDLERS


def authenticate(headers: Headers, settings: Settings) -> str:
    return check_key("anyapi", bearer_token(headers), settings, "Missing API key. Pass it as 'Authorization: Bearer <key>'.", "Invalid API key.")


def cancel_body(call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """The documented 3-field answer, or (``anyapi_cancel: full``) the whole batch object typed clients parse."""
    if call.engine.settings.anyapi_cancel == "full":
        return data
    return {"id": data["id"], "object": "batch", "status": data["status"]}


DIALECT = Dialect(
    name="anyapi",
    cancel_event="cancel_now",
    batch_fields=frozenset(
        {"id", "object", "endpoint", "input_file_id", "completion_window", "status", "output_file_id", "error_file_id",
         "created_at", "in_progress_at", "expires_at", "finalizing_at", "completed_at", "failed_at", "expired_at",
         "cancelling_at", "cancelled_at", "request_counts", "metadata"}
    ),
    file_fields=frozenset({"id", "object", "bytes", "created_at", "filename", "purpose", "status", "status_details"}),
    cancel_body=cancel_body,
)


PROVIDER = Provider(
    name="anyapi",
    prefix="/anyapi/v1",
    spec_name="anyapi",
    handlers=HANDLERS,
    make_backend=DIALECT.make_backend,
    authenticate=authenticate,
    render_error=render_error,
    decorate=request_id_header,
    view=View(view.rows, view.detail),
    summary="AnyAPI batches and files (OpenAI-compatible)",
    webhooks=StandardWebhooks("anyapi", addition="OpenAI Standard-Webhooks batch events: an opt-in addition (AnyAPI documents no webhooks)"),
    dialect=DIALECT,
    recorder=recorded.recorder,
)
