"""FormantAI as the server mounts it: base URL ``/formant`` (paths keep their ``/v1/``, as the real API)."""

from __future__ import annotations

import math

from starlette.datastructures import Headers
from starlette.responses import Response

from ...core.settings import Settings
from ...core.timefmt import iso
from ..base import Call, Provider, View, bearer_token, check_key
from . import recorded, view
from .errors import render_error
from .handlers import HANDLERS
from .models import RATE_LIMIT, RATE_WINDOW, FormantBackend
from .webhooks import FormantWebhooks


def authenticate(headers: Headers, settings: Settings) -> str:
    return check_key(
        "formant", bearer_token(headers), settings, "Missing API key: send 'Authorization: Bearer <key>'.", "Invalid API key."
    )


def decorate(call: Call | None, response: Response) -> None:
    """X-RateLimit-* on every answer; requests with a key count against that key's window."""
    if call is not None and call.namespace:
        limit, remaining, reset = call.backend.rate_limit()
    else:
        now = call.engine.now() if call is not None else None
        limit, remaining = RATE_LIMIT, RATE_LIMIT
        reset = (math.floor(now / RATE_WINDOW) + 1) * RATE_WINDOW if now is not None else None
    response.headers.setdefault("X-RateLimit-Limit", str(limit))
    response.headers.setdefault("X-RateLimit-Remaining", str(remaining))
    if reset is not None:
        response.headers.setdefault("X-RateLimit-Reset", iso(reset, "+00:00", "seconds"))


def retry_headers(retry_after: float, now: float) -> dict[str, str]:
    """A 429 carries Retry-After and the X-RateLimit-* headers FormantAI documents (PROVIDERS.md section 6)."""
    return {
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Limit": str(RATE_LIMIT),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": iso(now + retry_after, "+00:00", "seconds"),
    }


PROVIDER = Provider(
    name="formant",
    prefix="/formant",
    spec_name="formant",
    handlers=HANDLERS,
    make_backend=FormantBackend,
    authenticate=authenticate,
    render_error=render_error,
    decorate=decorate,
    retry_headers=retry_headers,
    view=View(view.rows, view.detail),
    recorder=recorded.recorder,
    upload_limit=lambda settings: settings.limits.max_csv_bytes,
    webhooks=FormantWebhooks(),
    summary="FormantAI Voice batch calls: CSV campaigns, their status and metrics",
)
