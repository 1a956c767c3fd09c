"""/_mock/requests and /_mock/violations: the request journal (filtered, cleared) and the spec violations."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .common import engine_of, error, mask

FILTERS = ("provider", "operation", "method", "status", "fault", "path", "source")


async def violations(request: Request) -> Response:
    data = [
        {"provider": v.provider, "operation": v.operation, "status": v.status, "problems": list(v.problems)}
        for v in engine_of(request).violations
    ]
    return JSONResponse({"object": "list", "data": data})


async def requests(request: Request) -> Response:
    """The journal, oldest first; ?provider= &operation= &method= &status= &fault= &path= &source= narrow it."""
    wanted = {k: v for k, v in request.query_params.items() if k in FILTERS}
    unknown = sorted(set(request.query_params) - set(FILTERS))
    if unknown:
        return error(400, f"unknown filter {unknown[0]!r} (filters: {', '.join(FILTERS)})")
    data = [
        {**e.__dict__, "namespace": mask(e.namespace)}
        for e in list(engine_of(request).journal)
        if all(str(getattr(e, k)) == v for k, v in wanted.items())
    ]
    return JSONResponse({"object": "list", "data": data})


async def clear_requests(request: Request) -> Response:
    engine_of(request).clear_journal()
    return JSONResponse({"object": "list", "data": []})
