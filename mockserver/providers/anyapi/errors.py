"""AnyAPI's error envelope: ``{"error": {"code": <status>, "message", "type", "metadata"?}}``."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ...core.errors import MockError
from ..openai_family.errors import respond

# docs.anyapi.ai/guides/errors documents bad_request (400) and authentication_error (401);
# the other types follow the same naming (our choice, listed in the README).
TYPES = {
    "invalid_request": "bad_request",
    "authentication": "authentication_error",
    "payment_required": "payment_required",
    "permission": "permission_denied",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "conflict": "conflict",
    "unprocessable": "unprocessable_entity",
    "rate_limit": "rate_limit_exceeded",
    "server": "internal_server_error",
    "not_implemented": "not_implemented",
}


def render_error(error: MockError) -> Response:
    inner: dict[str, Any] = {"code": error.status, "message": error.message, "type": TYPES.get(error.kind, "bad_request")}
    if error.param:
        inner["metadata"] = {"param": error.param}
    return respond(error, {"error": inner})
