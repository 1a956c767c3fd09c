"""Retell's error envelope, ``{"status": "error", "message": ...}`` (OAS-RTL components.responses)."""

from __future__ import annotations

from starlette.responses import Response

from ...core.errors import MockError
from ..base import json_response


def render_error(error: MockError) -> Response:
    return json_response({"status": "error", "message": error.message}, status=error.status, headers=error.headers)
