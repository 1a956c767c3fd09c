"""FormantAI's error envelope ``{"error": {"message", "type"}}`` and its rate-limit headers.

Types from docs.formantai.com/api-reference/errors-rate-limits; meanings the docs do not list map to the
nearest documented type.
"""

from __future__ import annotations

from starlette.responses import Response

from ...core.errors import MockError
from ..base import json_response

TYPES = {
    "invalid_request": "invalid_request",
    "authentication": "authentication_error",
    "payment_required": "invalid_request",
    "permission": "authentication_error",
    "not_found": "not_found",
    "method_not_allowed": "invalid_request",
    "conflict": "duplicate_request",
    "unprocessable": "invalid_request",
    "rate_limit": "rate_limit_exceeded",
    "server": "internal_error",
    "not_implemented": "internal_error",
}
RETRY_AFTER = "60"  # the docs' value for a 429


def render_error(error: MockError) -> Response:
    inner = {"message": error.message, "type": TYPES.get(error.kind, "invalid_request"), **error.extra}
    headers = dict(error.headers)
    if error.status == 429:
        headers.setdefault("Retry-After", RETRY_AFTER)
    return json_response({"error": inner}, status=error.status, headers=headers)
