"""The admin API under /_mock: clock, reset, and what a user inspecting the fake needs."""

from __future__ import annotations

import hmac
import json
import re
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..config.baseline import operations_of
from ..config.documents import Document, DocumentError
from ..config.faults import add_faults, check_operations, parse_faults
from ..config.scenarios import describe, parse_scenario_file
from ..core.engine import Engine
from ..core.errors import MockError
from ..core.hostile import json_problem, safe_text
from ..providers.base import Provider
from ..spec.loader import load_spec
from .admin_webhooks import webhook_routes
from .limits import BodyBudget

_SNAPSHOT_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_IMPORTED = "imported"


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": {"message": message, "type": "invalid_request"}}, status_code=status)


def _loads(raw: bytes) -> Any:
    """JSON the admin API may keep: not nested past 64 levels, no lone surrogates (ValueError otherwise)."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    problem = json_problem(data, 64)
    if problem is not None:
        raise ValueError(f"'{problem[0]}' {problem[1]}")
    return data


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = _loads(raw)
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
    from .dashboard import dashboard_routes  # here, not at the top: the dashboard uses this module's mask()

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
            if "webhooks" in data:
                raise DocumentError("admin API: webhook endpoints are added with POST /_mock/webhooks/endpoints")
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
            data = _loads(raw) if raw.strip() else None
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
        """{} or {"name": ..., "path": ...}: a named snapshot (kept in the durable state), optionally also
        written to a file the server can write (an error otherwise, and then nothing is kept)."""
        try:
            data = await _json(request)
        except ValueError:
            data = None
        name, path = (data or {}).get("name"), (data or {}).get("path")
        if data is None or set(data) - {"name", "path"} or not all(v is None or isinstance(v, str) for v in (name, path)):
            return _error(400, 'expected a JSON body {} or {"name": "<snapshot name>", "path": "<file to export it to>"}')
        if name is not None and not _SNAPSHOT_NAME.fullmatch(name):
            return _error(400, f"snapshot name {name!r}: use 1-64 letters, digits, '.', '_' or '-'")
        if path is None:
            return JSONResponse({"id": engine.snapshot(name)})
        try:
            target = open(path, "wb")  # before anything is kept: a path the server cannot write keeps nothing
        except OSError as exc:
            return _error(400, f"cannot write the snapshot to {path!r}: {exc.strerror or exc}")
        with target:
            state = engine.snapshot_state()
            try:
                target.write(engine.store.export_snapshot(state))
            except OSError as exc:
                return _error(500, f"cannot write the snapshot to {path!r}: {exc.strerror or exc}")
        return JSONResponse({"id": engine.keep_snapshot(state, name), "path": path})

    async def snapshot_list(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": engine.snapshots()})

    async def restore(request: Request) -> Response:
        """{"id": ...} (a snapshot of this server's state) or {"path": ...} (a file a snapshot was exported to)."""
        try:
            data = await _json(request)
        except ValueError:
            data = {}
        snapshot_id, path = data.get("id"), data.get("path")
        if path is not None and isinstance(path, str) and snapshot_id is None:
            try:
                state = engine.store.import_snapshot(Path(path).read_bytes())
            except OSError as exc:
                return _error(400, f"cannot read a snapshot from {path!r}: {exc.strerror or exc}")
            except Exception as exc:  # not a file POST /_mock/snapshot wrote
                return _error(400, f"{path!r} is not a snapshot exported by POST /_mock/snapshot: {exc}")
            snapshot_id = engine.keep_snapshot(state, _IMPORTED)  # kept like any other, then restored
        if not isinstance(snapshot_id, str):
            return _error(400, 'expected a JSON body {"id": "<snapshot id from POST /_mock/snapshot>"} or {"path": "<exported file>"}')
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
        Route("/snapshots", snapshot_list, methods=["GET"]),
        Route("/restore", restore, methods=["POST"]),
        Route("/providers", provider_list, methods=["GET"]),
        *dashboard_routes(engine, providers),  # /_mock/ui: the dashboard and the JSON it polls
        *webhook_routes(engine, providers),
    ]


# --- who may use it (issue 12) --------------------------------------------------------------------

# relative to the /_mock mount: health stays open for probes, and the dashboard's page and assets (they carry no
# data; a browser opening the page sends no header: the page asks for the token and sends it with every call)
OPEN_PATHS = frozenset({"/health", "/ui", "/ui/", "/ui/static/app.js", "/ui/static/style.css"})


class AdminGuard:
    """Wraps the whole ``/_mock`` mount: with ``settings.admin_token`` set, every request but ``/_mock/health``
    needs ``Authorization: Bearer <token>`` (401 otherwise); every admin body is read under the JSON body
    limit and the body read timeout; hostile bodies get a 4xx, never a 500."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.engine.settings
        token = settings.admin_token
        if token and _relative_path(scope) not in OPEN_PATHS and not _authorised(scope, token):
            await _send_error(send, 401, "This admin API needs 'Authorization: Bearer <admin token>' (the server runs with --admin-token).",
                              {"www-authenticate": 'Bearer realm="mockserver admin"'})
            return
        budget = BodyBudget(receive, settings.limits.max_json_body_bytes, settings.timeouts.body_read)
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, budget, tracking_send)
        except MockError as error:  # body too large or too slow
            if started:
                raise
            await _send_error(send, error.status, safe_text(error.message, 500), {})
        except (RecursionError, UnicodeError) as exc:
            if started:
                raise
            await _send_error(send, 400, f"The request cannot be used: {type(exc).__name__}.", {})


def _relative_path(scope: Scope) -> str:
    path, root = scope.get("path", ""), scope.get("root_path", "")
    relative = path[len(root):] if root and path.startswith(root) else path
    return relative.rstrip("/") or "/"


def _authorised(scope: Scope, token: str) -> bool:
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            scheme, _, given = value.decode("latin-1").partition(" ")
            return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode("latin-1", "replace"), token.encode("utf-8"))
    return False


async def _send_error(send: Send, status: int, message: str, headers: dict[str, str]) -> None:
    kind = "unauthorized" if status == 401 else "invalid_request"
    body = json.dumps({"error": {"message": message, "type": kind}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
