"""OpenAI's error envelope: ``{"error": {"message", "type", "param", "code"}}`` (all four keys always sent)."""

from __future__ import annotations

from starlette.responses import Response

from ...core.errors import MockError
from ..openai_family.errors import OPENAI_TYPES, respond

# OpenAI's `code` for the meanings that have one (a 401 says invalid_api_key); others send the error's own code
CODES = {"authentication": "invalid_api_key", "rate_limit": "rate_limit_exceeded"}


def render_error(error: MockError) -> Response:
    inner = {
        "message": error.message,
        "type": OPENAI_TYPES.get(error.kind, "invalid_request_error"),
        "param": error.param,
        "code": error.code or CODES.get(error.kind),
    }
    return respond(error, {"error": inner})
