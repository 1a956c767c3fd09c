"""The admin API under /_mock: clock, reset, and what a user inspecting the fake needs."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import __version__
from ..config.baseline import operations_of
from ..core.engine import Engine
from ..config.documents import Document, DocumentError
from ..config.faults import add_faults, check_operations, parse_faults
from ..providers.base import Provider
from ..config.scenarios import describe, parse_scenario_file
from ..spec.loader import load_spec


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


def _finite(value: Any) -> Any:
    """JSON has no infinity: a duration that never ends is written "never" (as the admin API accepts it)."""
    if isinstance(value, float) and value == float("inf"):
        return "never"
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


_JOURNAL_FILTERS = ("provider", "operation", "method", "status", "fault", "path")


def admin_routes(engine: Engine, providers: dict[str, Provider]) -> list[Route]:
    async def clock(request: Request) -> Response:
        return JSONResponse({"now": engine.now(), "speed": engine.clock.speed})

    async def advance(request: Request) -> Response:
        try:
            data = await _json(request)
            seconds = data["seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return _error(400, 'expected a JSON body {"seconds": <number >= 0>}')
        try:
            return JSONResponse({"now": engine.clock.advance(float(seconds))})
        except ValueError as exc:
            return _error(400, str(exc))

    async def speed(request: Request) -> Response:
        try:
            value = (await _json(request))["speed"]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return _error(400, 'expected a JSON body {"speed": <number >= 0>} (0 freezes the clock)')
        try:
            engine.clock.set_speed(float(value))
        except ValueError as exc:
            return _error(400, str(exc))
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
        """The journal, oldest first; ?provider= &operation= &method= &status= &fault= &path= narrow it."""
        wanted = {k: v for k, v in request.query_params.items() if k in _JOURNAL_FILTERS}
        unknown = sorted(set(request.query_params) - set(_JOURNAL_FILTERS))
        if unknown:
            return _error(400, f"unknown filter {unknown[0]!r} (filters: {', '.join(_JOURNAL_FILTERS)})")
        data = [
            {**e.__dict__, "namespace": mask(e.namespace)}
            for e in list(engine.journal)
            if all(str(getattr(e, k)) == v for k, v in wanted.items())
        ]
        return JSONResponse({"object": "list", "data": data})

    async def clear_requests(request: Request) -> Response:
        engine.clear_journal()
        return JSONResponse({"object": "list", "data": []})

    async def scenario_list(request: Request) -> Response:
        return JSONResponse(_finite(describe(engine)))

    async def scenario_set(request: Request) -> Response:
        """Add or replace scenarios and set the default: the scenario file's schema, as JSON."""
        try:
            data = await _json(request)
            if "faults" in data:
                raise DocumentError("admin API: faults are set with POST /_mock/faults")
            parsed = parse_scenario_file(Document(data, "admin API (POST /_mock/scenarios)"), known=set(engine.scenarios))
        except DocumentError as exc:
            return _error(400, str(exc))
        except ValueError as exc:
            return _error(400, f"expected a JSON object: {exc}")
        engine.scenarios.update(parsed.scenarios)
        if "default" in data:
            engine.scenarios.default = parsed.default
        return JSONResponse(_finite(describe(engine)))

    async def scenario_clear(request: Request) -> Response:
        engine.scenarios.replace_all({}, None)
        return JSONResponse(_finite(describe(engine)))

    async def scenario_delete(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in engine.scenarios:
            return _error(404, f"no user scenario {name!r} (user scenarios: {', '.join(sorted(engine.scenarios)) or 'none'})")
        del engine.scenarios[name]  # a default of that name goes with it
        return JSONResponse(_finite(describe(engine)))

    async def fault_list(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [f.as_dict() for f in list(engine.faults)]})

    async def fault_add(request: Request) -> Response:
        """One fault, a list of faults, or {"faults": [...]}; answers the faults added, with their ids."""
        try:
            raw = await request.body()
            data = json.loads(raw) if raw.strip() else None
            if isinstance(data, dict) and set(data) == {"faults"}:
                data = data["faults"]
            faults = parse_faults(Document(data, "admin API (POST /_mock/faults)"), (), data)
            check_operations(faults, operations_of(providers))
        except DocumentError as exc:
            return _error(400, str(exc))
        except ValueError as exc:
            return _error(400, f"expected a JSON fault object or list: {exc}")
        added = add_faults(engine, faults)
        return JSONResponse({"object": "list", "data": [f.as_dict() for f in added]})

    async def fault_clear(request: Request) -> Response:
        engine.faults.clear()
        return JSONResponse({"object": "list", "data": []})

    async def fault_delete(request: Request) -> Response:
        if not engine.faults.remove(request.path_params["fault_id"]):
            return _error(404, f"no fault {request.path_params['fault_id']!r}")
        return JSONResponse({"deleted": request.path_params["fault_id"]})

    async def snapshot(request: Request) -> Response:
        return JSONResponse({"id": engine.snapshot()})

    async def restore(request: Request) -> Response:
        try:
            snapshot_id = (await _json(request)).get("id")
        except ValueError:
            snapshot_id = None
        if not isinstance(snapshot_id, str):
            return _error(400, 'expected a JSON body {"id": "<snapshot id from POST /_mock/snapshot>"}')
        if snapshot_id not in engine.snapshots():
            return _error(404, f"no snapshot {snapshot_id!r} (snapshots: {', '.join(engine.snapshots()) or 'none'})")
        engine.restore(snapshot_id)
        return JSONResponse({"restored": snapshot_id, "now": engine.now()})

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

    async def health(request: Request) -> Response:
        """For a container's HEALTHCHECK and load balancers: the server answers, with its version."""
        return JSONResponse({"status": "ok", "version": __version__, "providers": list(providers)})

    async def spec(request: Request) -> Response:
        """The provider's vendored OpenAPI document, as the fake serves it: YAML as vendored, or ?format=json."""
        name = request.path_params["provider"]
        if name not in providers:
            return _error(404, f"no provider {name!r} (providers: {', '.join(providers)})")
        fmt = request.query_params.get("format", "yaml")
        if fmt not in ("yaml", "json"):
            return _error(400, f"format: expected yaml or json, got {fmt!r}")
        document = load_spec(providers[name].spec_name)
        if fmt == "json":
            return JSONResponse(document.document)
        return Response(document.path.read_bytes(), media_type="application/yaml")

    return [
        Route("/health", health, methods=["GET"]),
        Route("/specs/{provider}", spec, methods=["GET"]),
        Route("/clock", clock, methods=["GET"]),
        Route("/clock/advance", advance, methods=["POST"]),
        Route("/clock/speed", speed, methods=["POST"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/batches", batches, methods=["GET"]),
        Route("/violations", violations, methods=["GET"]),
        Route("/requests", requests, methods=["GET"]),
        Route("/requests", clear_requests, methods=["DELETE"]),
        Route("/scenarios", scenario_list, methods=["GET"]),
        Route("/scenarios", scenario_set, methods=["POST"]),
        Route("/scenarios", scenario_clear, methods=["DELETE"]),
        Route("/scenarios/{name}", scenario_delete, methods=["DELETE"]),
        Route("/faults", fault_list, methods=["GET"]),
        Route("/faults", fault_add, methods=["POST"]),
        Route("/faults", fault_clear, methods=["DELETE"]),
        Route("/faults/{fault_id}", fault_delete, methods=["DELETE"]),
        Route("/snapshot", snapshot, methods=["POST"]),
        Route("/restore", restore, methods=["POST"]),
        Route("/providers", provider_list, methods=["GET"]),
    ]
