"""The dashboard's read model: every provider's jobs as they stand now, through each provider's ``View``.

Reads are pure (a read may bring a lifecycle up to date but never draws an id), so watching the fake changes
nothing a client sees; what a provider shows is its own business (``providers/<name>/view.py``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..core.engine import Engine
from ..providers.base import Provider
from .admin.common import mask


class NotFoundInView(LookupError):
    """The batch a detail request names does not exist (any more)."""


def namespace_handle(provider: str, namespace: str) -> str:
    """A stable name for (provider, API key) that the page can send back without ever holding the key."""
    return hashlib.sha256(f"{provider}\0{namespace}".encode()).hexdigest()[:16]


class ReadModel:
    """Builds the dashboard's JSON from the engine's store and the providers' views."""

    def __init__(self, engine: Engine, providers: dict[str, Provider]) -> None:
        self.engine = engine
        self.providers = providers

    def state(self) -> dict[str, Any]:
        """Every batch of every provider and key, the clock, and what the table's filters can choose from."""
        now = self.engine.now()
        rows: list[dict[str, Any]] = []
        for name, namespace, backend in self.engine.store.namespaces():
            view = self.providers[name].view if name in self.providers else None
            if view is None:
                continue
            base = {"provider": name, "key": mask(namespace), "ns": namespace_handle(name, namespace)}
            rows.extend({**base, **row} for row in view.rows(backend, now))
        rows.sort(key=lambda r: (-r["created"], r["provider"], str(r["id"])))
        keys = sorted({(r["provider"], r["ns"], r["key"]) for r in rows})
        return {
            "clock": {"now": now, "speed": self.engine.clock.speed},
            "batches": rows,
            "keys": [{"provider": p, "ns": ns, "key": key} for p, ns, key in keys],
            "providers": sorted({r["provider"] for r in rows}),
            "statuses": sorted({r["status"] for r in rows}),
            "counts": {"requests": len(self.engine.journal), "faults": len(self.engine.faults), "violations": len(self.engine.violations)},
        }

    def detail(self, provider: str, ns: str, batch_id: str) -> dict[str, Any]:
        """One batch with its timeline, counts and provider parts (line previews, runs, calls and metrics)."""
        view = self.providers[provider].view if provider in self.providers else None
        if view is not None:
            for name, namespace, backend in self.engine.store.namespaces(provider):
                if namespace_handle(name, namespace) != ns:
                    continue
                found = view.detail(backend, batch_id, self.engine.settings.seed)
                if found is not None:
                    return {"provider": name, "key": mask(namespace), "ns": ns, "now": self.engine.now(), **found}
        raise NotFoundInView(f"no {provider} batch {batch_id!r} under that key")


def to_json(data: Any) -> bytes:
    """JSON with no infinity (a duration that never ends is written null)."""

    def finite(value: Any) -> Any:
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            return None
        if isinstance(value, dict):
            return {k: finite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [finite(v) for v in value]
        return value

    return json.dumps(finite(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


__all__: list[str] = ["NotFoundInView", "ReadModel", "namespace_handle", "to_json"]
