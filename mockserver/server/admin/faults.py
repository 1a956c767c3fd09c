"""/_mock/faults: the fault rules (added as one, a list, or {"faults": [...]}; cleared; deleted by id)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...config.baseline import operations_of
from ...config.documents import Document, DocumentError
from ...config.faults import add_faults, check_operations, parse_faults
from .common import engine_of, error, loads, providers_of


async def fault_list(request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [f.as_dict() for f in list(engine_of(request).faults)]})


async def fault_add(request: Request) -> Response:
    """One fault, a list of faults, or {"faults": [...]}; answers the faults added, with their ids."""
    try:
        raw = await request.body()
        data = loads(raw) if raw.strip() else None
        if isinstance(data, dict) and set(data) == {"faults"}:
            data = data["faults"]
        faults = parse_faults(Document(data, "admin API (POST /_mock/faults)"), (), data)
        check_operations(faults, operations_of(providers_of(request)))
    except DocumentError as exc:
        return error(400, str(exc))
    except ValueError as exc:
        return error(400, f"expected a JSON fault object or list: {exc}")
    added = add_faults(engine_of(request), faults)
    return JSONResponse({"object": "list", "data": [f.as_dict() for f in added]})


async def fault_clear(request: Request) -> Response:
    engine_of(request).faults.clear()
    return JSONResponse({"object": "list", "data": []})


async def fault_delete(request: Request) -> Response:
    if not engine_of(request).faults.remove(request.path_params["fault_id"]):
        return error(404, f"no fault {request.path_params['fault_id']!r}")
    return JSONResponse({"deleted": request.path_params["fault_id"]})
