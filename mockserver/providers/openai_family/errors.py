"""Error envelopes of the OpenAI-compatible providers (one render function each; errors are declared in core)."""

from __future__ import annotations

from starlette.responses import Response

from ...core.errors import MockError
from ..base import json_response

# OpenAI's `type` strings, which Portkey passes through from the provider
OPENAI_TYPES = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "payment_required": "insufficient_quota",
    "permission": "permission_error",
    "not_found": "invalid_request_error",
    "method_not_allowed": "invalid_request_error",
    "conflict": "invalid_request_error",
    "unprocessable": "invalid_request_error",
    "rate_limit": "rate_limit_error",
    "server": "server_error",
    "not_implemented": "server_error",
}


def respond(error: MockError, body: object) -> Response:
    return json_response(body, status=error.status, headers=error.headers)
