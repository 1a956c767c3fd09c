"""/_mock/scenarios: the user scenarios and the server's default (the scenario file's schema, as JSON)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...config.documents import Document, DocumentError
from ...config.scenarios import describe, parse_scenario_file
from .common import engine_of, error, finite, json_object


async def scenario_list(request: Request) -> Response:
    return JSONResponse(finite(describe(engine_of(request))))


async def scenario_set(request: Request) -> Response:
    """Add or replace scenarios and set the default: the scenario file's schema, as JSON."""
    engine = engine_of(request)
    try:
        data = await json_object(request)
        if "faults" in data:
            raise DocumentError("admin API: faults are set with POST /_mock/faults")
        if "webhooks" in data:
            raise DocumentError("admin API: webhook endpoints are added with POST /_mock/webhooks/endpoints")
        parsed = parse_scenario_file(Document(data, "admin API (POST /_mock/scenarios)"), known=set(engine.scenarios))
    except DocumentError as exc:
        return error(400, str(exc))
    except ValueError as exc:
        return error(400, f"expected a JSON object: {exc}")
    engine.scenarios.update(parsed.scenarios)
    if "default" in data:
        engine.scenarios.default = parsed.default
    return JSONResponse(finite(describe(engine)))


async def scenario_clear(request: Request) -> Response:
    engine = engine_of(request)
    engine.scenarios.replace_all({}, None)
    return JSONResponse(finite(describe(engine)))


async def scenario_delete(request: Request) -> Response:
    engine = engine_of(request)
    name = request.path_params["name"]
    if name not in engine.scenarios:
        return error(404, f"no user scenario {name!r} (user scenarios: {', '.join(sorted(engine.scenarios)) or 'none'})")
    del engine.scenarios[name]  # a default of that name goes with it
    return JSONResponse(finite(describe(engine)))
