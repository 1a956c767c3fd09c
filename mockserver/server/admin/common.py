"""What every admin handler shares: the engine and providers of the app it runs in, the JSON it accepts, and
the error it answers."""

from __future__ import annotations

import json
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...core.engine import Engine
from ...core.hostile import json_problem
from ...providers.base import Provider


def engine_of(request: Request) -> Engine:
    """The engine of the server this request reached (``create_app`` puts it on ``app.state``)."""
    return cast(Engine, request.app.state.engine)


def providers_of(request: Request) -> dict[str, Provider]:
    """The providers that server mounts, by name."""
    return cast("dict[str, Provider]", request.app.state.providers)


def error(status: int, message: str) -> Response:
    return JSONResponse({"error": {"message": message, "type": "invalid_request"}}, status_code=status)


def loads(raw: bytes) -> Any:
    """JSON the admin API may keep: not nested past 64 levels, no lone surrogates (ValueError otherwise)."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    problem = json_problem(data, 64)
    if problem is not None:
        raise ValueError(f"'{problem[0]}' {problem[1]}")
    return data


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body is ``{}`` (ValueError for anything else)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    data = loads(raw)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def mask(namespace: str | None) -> str | None:
    """API keys are namespaces; the admin API never shows one whole."""
    if namespace is None:
        return None
    return namespace if len(namespace) <= 8 else f"{namespace[:3]}...{namespace[-4:]}"


def finite(value: Any) -> Any:
    """JSON has no infinity: a duration that never ends is written "never" (as the admin API accepts it)."""
    if isinstance(value, float) and value == float("inf"):
        return "never"
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    return value
