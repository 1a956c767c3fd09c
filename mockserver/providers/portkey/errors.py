"""Portkey's error envelopes: the gateway's own ``{"status": "failure", "message"}``, or the provider's (OpenAI)
error re-wrapped by the gateway, ``{"error": {...}, "provider": "openai"}``."""

from __future__ import annotations

from starlette.responses import Response

from ...core.errors import MockError
from ..openai_family.errors import OPENAI_TYPES, respond

# errors the gateway itself answers, in its {"status":"failure"} shape (GW-PK requestValidator);
# everything else comes back as the provider's error re-wrapped by the gateway
GATEWAY_KINDS = frozenset({"authentication", "method_not_allowed"})


def render_error(error: MockError) -> Response:
    if error.kind in GATEWAY_KINDS or error.extra.get("gateway"):
        return respond(error, {"status": "failure", "message": error.message})
    inner = {"message": f"openai error: {error.message}", "type": OPENAI_TYPES.get(error.kind, "invalid_request_error"), "param": error.param, "code": error.code}
    return respond(error, {"error": inner, "provider": "openai"})
