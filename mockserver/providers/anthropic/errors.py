"""Anthropic's error envelope: ``{"type": "error", "error": {"type", "message"}}``, types from
docs.anthropic.com/en/api/errors (meanings the docs do not list map to the nearest documented type)."""

from __future__ import annotations

from starlette.responses import Response

from ...core.errors import MockError
from ..base import json_response

TYPES = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "payment_required": "billing_error",
    "permission": "permission_error",
    "not_found": "not_found_error",
    "method_not_allowed": "invalid_request_error",
    "request_timeout": "timeout_error",
    "conflict": "invalid_request_error",
    "payload_too_large": "request_too_large",
    "unprocessable": "invalid_request_error",
    "rate_limit": "rate_limit_error",
    "server": "api_error",
    "not_implemented": "api_error",
}


def render_error(error: MockError) -> Response:
    inner = {"type": TYPES.get(error.kind, "api_error") if error.status != 529 else "overloaded_error", "message": error.message}
    return json_response({"type": "error", "error": inner}, status=error.status, headers=error.headers)
