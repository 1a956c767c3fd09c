"""CHECKLIST 4: the provider's error envelope, one function. Every core meaning maps to a documented type."""

from __future__ import annotations

from starlette.responses import Response

from ...core.errors import MockError
from ..base import json_response

TYPES = {
    "invalid_request": "invalid_request",
    "authentication": "authentication_error",
    "payment_required": "invalid_request",
    "permission": "permission_error",
    "not_found": "not_found",
    "method_not_allowed": "invalid_request",
    "request_timeout": "timeout",
    "conflict": "conflict",
    "payload_too_large": "too_large",
    "unprocessable": "invalid_request",
    "rate_limit": "rate_limited",
    "server": "server_error",
    "not_implemented": "server_error",
}


def render_error(error: MockError) -> Response:
    return json_response({"error": {"type": TYPES.get(error.kind, "server_error"), "message": error.message}}, status=error.status, headers=error.headers)
