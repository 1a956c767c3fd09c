"""/_mock/clock: read the simulated clock, advance it, set its speed."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .common import engine_of, error, json_object


async def clock(request: Request) -> Response:
    engine = engine_of(request)
    return JSONResponse({"now": engine.now(), "speed": engine.clock.speed})


async def advance(request: Request) -> Response:
    try:
        data = await json_object(request)
        seconds = data["seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return error(400, 'expected a JSON body {"seconds": <number >= 0>}')
    try:
        return JSONResponse({"now": engine_of(request).clock.advance(float(seconds))})
    except ValueError as exc:
        return error(400, str(exc))


async def speed(request: Request) -> Response:
    try:
        value = (await json_object(request))["speed"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return error(400, 'expected a JSON body {"speed": <number >= 0>} (0 freezes the clock)')
    engine = engine_of(request)
    try:
        engine.clock.set_speed(float(value))
    except ValueError as exc:
        return error(400, str(exc))
    return JSONResponse({"now": engine.now(), "speed": engine.clock.speed})
