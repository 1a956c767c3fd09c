"""The admin API under /_mock: clock, reset, and what a user inspecting the fake needs."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .core.engine import Engine
from .providers.base import Provider


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": {"message": message, "type": "invalid_request"}}, status_code=status)


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def mask(namespace: str | None) -> str | None:
    """API keys are namespaces; the admin API never shows one whole."""
    if namespace is None:
        return None
    return namespace if len(namespace) <= 8 else f"{namespace[:3]}...{namespace[-4:]}"


def admin_routes(engine: Engine, providers: dict[str, Provider]) -> list[Route]:
    async def clock(request: Request) -> Response:
        return JSONResponse({"now": engine.now(), "speed": engine.clock.speed})

    async def advance(request: Request) -> Response:
        try:
            data = await _json(request)
            seconds = float(data["seconds"])
        except (ValueError, KeyError, TypeError):
            return _error(400, 'expected a JSON body {"seconds": <number >= 0>}')
        if seconds < 0 or seconds != seconds or seconds == float("inf"):
            return _error(400, "seconds must be a finite number >= 0: the clock never goes backwards")
        return JSONResponse({"now": engine.clock.advance(seconds)})

    async def speed(request: Request) -> Response:
        try:
            value = float((await _json(request))["speed"])
            engine.clock.set_speed(value)
        except (ValueError, KeyError, TypeError):
            return _error(400, 'expected a JSON body {"speed": <number >= 0>} (0 freezes the clock)')
        return JSONResponse({"now": engine.now(), "speed": engine.clock.speed})

    async def reset(request: Request) -> Response:
        engine.reset()
        return JSONResponse({"reset": True, "now": engine.now()})

    async def batches(request: Request) -> Response:
        rows = []
        for provider, namespace, backend in engine.store.namespaces(request.query_params.get("provider")):
            for item in backend.all_batches():
                row = backend.describe(item) if hasattr(backend, "describe") else {"id": item.id, "status": item.state}
                rows.append({"provider": provider, "namespace": mask(namespace), **row})
        return JSONResponse({"object": "list", "data": rows})

    async def violations(request: Request) -> Response:
        data = [
            {"provider": v.provider, "operation": v.operation, "status": v.status, "problems": list(v.problems)}
            for v in engine.violations
        ]
        return JSONResponse({"object": "list", "data": data})

    async def requests(request: Request) -> Response:
        data = [
            {**e.__dict__, "namespace": mask(e.namespace)}
            for e in engine.journal
            if request.query_params.get("provider") in (None, e.provider)
        ]
        return JSONResponse({"object": "list", "data": data})

    async def provider_list(request: Request) -> Response:
        data = [
            {
                "name": p.name,
                "base_path": p.prefix,
                "summary": p.summary,
                "operations": sorted(p.handlers),
                "unsupported": p.unsupported,
            }
            for p in providers.values()
        ]
        return JSONResponse({"object": "list", "data": data})

    return [
        Route("/clock", clock, methods=["GET"]),
        Route("/clock/advance", advance, methods=["POST"]),
        Route("/clock/speed", speed, methods=["POST"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/batches", batches, methods=["GET"]),
        Route("/violations", violations, methods=["GET"]),
        Route("/requests", requests, methods=["GET"]),
        Route("/providers", provider_list, methods=["GET"]),
    ]
