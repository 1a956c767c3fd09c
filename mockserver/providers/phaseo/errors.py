"""Phaseo's error envelope (/api-reference/errors), and the ``{"ok": false}`` body of its 501 mode."""

from __future__ import annotations

import hashlib

from starlette.responses import Response

from ...core.errors import MockError, NotImplementedYet
from ..base import json_response

# /api-reference/errors
CODES = {
    "invalid_request": "validation_error",
    "authentication": "authentication_error",
    "payment_required": "payment_required",
    "permission": "authorization_error",
    "not_found": "not_found_error",
    "method_not_allowed": "method_not_allowed",
    "conflict": "conflict_error",
    "unprocessable": "validation_error",
    "rate_limit": "rate_limit_error",
    "server": "server_error",
}


def render_error(error: MockError) -> Response:
    if isinstance(error, NotImplementedYet):
        return json_response({"ok": False, "error": "not_implemented", "message": error.message}, status=501, headers=error.headers)
    body = {
        "generation_id": "G-" + hashlib.sha256(error.message.encode()).hexdigest()[:12],
        "status_code": error.status,
        "error": CODES.get(error.kind, "validation_error"),
        "error_type": "system" if error.status >= 500 else "user",
        "error_origin": "gateway",
        "description": error.message,
    }
    return json_response(body, status=error.status, headers=error.headers)
