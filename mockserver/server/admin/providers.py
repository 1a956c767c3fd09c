"""/_mock/health, /_mock/providers, /_mock/specs/{provider}, /_mock/batches: what the server mounts, and every
batch it holds across providers and namespaces."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ... import __version__
from ...core.backend import Backend
from ...spec.loader import load_spec
from .common import engine_of, error, mask, providers_of


async def health(request: Request) -> Response:
    """For a container's HEALTHCHECK and load balancers: the server answers, with its version."""
    return JSONResponse({"status": "ok", "version": __version__, "providers": list(providers_of(request))})


async def provider_list(request: Request) -> Response:
    data = [
        {
            "name": p.name,
            "base_path": p.prefix,
            "summary": p.summary,
            "operations": sorted(p.handlers),
            "unsupported": p.unsupported,
        }
        for p in providers_of(request).values()
    ]
    return JSONResponse({"object": "list", "data": data})


async def spec(request: Request) -> Response:
    """The provider's vendored OpenAPI document, as the fake serves it: YAML as vendored, or ?format=json."""
    providers = providers_of(request)
    name = request.path_params["provider"]
    if name not in providers:
        return error(404, f"no provider {name!r} (providers: {', '.join(providers)})")
    fmt = request.query_params.get("format", "yaml")
    if fmt not in ("yaml", "json"):
        return error(400, f"format: expected yaml or json, got {fmt!r}")
    document = load_spec(providers[name].spec_name)
    if fmt == "json":
        return JSONResponse(document.document)
    return Response(document.path.read_bytes(), media_type="application/yaml")


async def batches(request: Request) -> Response:
    rows = []
    backend: Backend
    for provider, namespace, backend in engine_of(request).store.namespaces(request.query_params.get("provider")):
        for item in backend.all_batches():
            rows.append({"provider": provider, "namespace": mask(namespace), **backend.describe(item)})
    return JSONResponse({"object": "list", "data": rows})
