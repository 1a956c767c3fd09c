"""The dashboard's read model: every provider's objects as they stand now, read without changing anything.

Lifecycles advance lazily when an object is read, and an OpenAI-family batch that reaches a terminal state
writes its output and error files, drawing file ids. A dashboard that polled the real objects would so
decide *when* those ids are drawn and shift every id a client gets later. So the dashboard never advances
a real object: it advances a throwaway copy of each unfinished one, in a copy of its backend whose engine
has an id factory of its own, through the backend's own verbs (``all_batches``), and reads that. Finished
objects no longer move and are read as they are.
"""

from __future__ import annotations

import copy
import hashlib
import json
import weakref
from typing import Any, Iterable

from .admin import mask
from ..core.clock import HORIZON
from ..core.engine import Engine
from ..core.ids import IdFactory
from ..core.lifecycle import Lifecycle, record
from ..providers.formant.lifecycle import BATCH_CALL_LIFECYCLE
from ..providers.formant.models import BatchCall, FormantBackend
from ..providers.openai_family.lifecycle import BATCH_LIFECYCLE
from ..providers.openai_family.models import Batch, File, OpenAIBatchBackend
from ..providers.retell.lifecycle import BATCH_TEST_LIFECYCLE
from ..providers.retell.models import BatchTest, RetellBackend

PREVIEW_LINES = 5  # first lines shown of each input, output and error file
PREVIEW_CHARS = 2000  # a longer line is cut
MAX_ITEMS = 200
PREVIEW_PREFIX = "preview-file-"  # ids of the files a copy writes (the real ones are drawn when a client reads)  # Retell runs / FormantAI calls listed in a batch's detail


class NotFoundInView(LookupError):
    """The batch a detail request names does not exist (any more)."""


def namespace_handle(provider: str, namespace: str) -> str:
    """A stable name for (provider, API key) that the page can send back without ever holding the key."""
    return hashlib.sha256(f"{provider}\0{namespace}".encode()).hexdigest()[:16]


class _ReadEngine:
    """The engine as a dashboard read sees it: one fixed ``now`` and ids that are thrown away."""

    def __init__(self, engine: Engine, now: float) -> None:
        self._engine = engine
        self._now = now
        self.ids = IdFactory(engine.settings.seed)

    def now(self) -> float:
        return self._now

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def _clone(obj: Any) -> Any:
    """A copy whose state can advance without touching ``obj`` (the parts a lifecycle never changes are shared)."""
    clone = copy.copy(obj)
    if isinstance(getattr(obj, "moments", None), dict):
        clone.moments = dict(obj.moments)
    for children in ("runs", "calls"):  # Retell runs, FormantAI calls: each advances with its batch
        if isinstance(getattr(obj, children, None), list):
            setattr(clone, children, [_clone(child) for child in getattr(obj, children)])
    return clone


def _planned(lifecycle: Lifecycle[Any], obj: Any) -> list[dict[str, Any]]:
    """The states ``obj`` will enter by itself if nobody acts (no cancel), with their moments."""
    clone = copy.copy(obj)  # a batch's own moments decide its timeline; its runs or calls need not move
    clone.moments = dict(obj.moments)
    before = dict(clone.moments)
    lifecycle.advance(clone, HORIZON, record)
    return [{"state": s, "at": at} for s, at in sorted(clone.moments.items(), key=lambda item: item[1]) if s not in before]


def _timeline(obj: Any) -> list[dict[str, Any]]:
    return [{"state": s, "at": at} for s, at in sorted(obj.moments.items(), key=lambda item: item[1])]


def _preview(file: File | None) -> dict[str, Any] | None:
    if file is None:
        return None
    text = file.content.decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    shown = [line if len(line) <= PREVIEW_CHARS else line[:PREVIEW_CHARS] + " …" for line in lines[:PREVIEW_LINES]]
    return {"id": file.id, "filename": file.filename, "bytes": file.bytes, "line_count": len(lines), "lines": shown}


class ReadModel:
    """Builds the dashboard's JSON. One per app; it keeps the copies of batches whose results are written."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # real OpenAI-family batch (by id()) -> (weak ref, its state, the finished copy, the copy's files)
        self._finished: dict[int, tuple[weakref.ref[Batch], str, Batch, dict[str, File]]] = {}

    # -- reading a backend without changing it ----------------------------------------------------------

    def _openai(self, backend: OpenAIBatchBackend, now: float) -> tuple[list[Batch], dict[str, File]]:
        files = dict(backend.files)
        shown: list[Batch] = []
        moving: dict[str, Batch] = {}
        for batch in list(backend.batches.values()):
            cached = self._finished.get(id(batch))
            if batch.state in BATCH_LIFECYCLE.terminal:
                self._finished.pop(id(batch), None)  # a client has read it: its own files are real now
                shown.append(batch)
            elif cached is not None and cached[0]() is batch and cached[1] == batch.state:
                shown.append(cached[2])  # its copy has finished already: the results are written once
                files.update(cached[3])
            else:
                moving[batch.id] = _clone(batch)
                shown.append(moving[batch.id])
        if moving:
            view = copy.copy(backend)
            view.engine = _ReadEngine(backend.engine, now)  # type: ignore[assignment]
            view.file_prefix = PREVIEW_PREFIX  # results the copy writes can never be taken for real files
            view.files = dict(files)
            view.batches = moving
            view.all_batches()
            written = {k: f for k, f in view.files.items() if k not in files}
            files.update(written)
            originals = {b.id: b for b in backend.batches.values()}
            for clone in moving.values():
                if clone.state in BATCH_LIFECYCLE.terminal:
                    original = originals[clone.id]
                    own = {k: f for k, f in written.items() if k in (clone.output_file_id, clone.error_file_id)}
                    self._finished[id(original)] = (weakref.ref(original), original.state, clone, own)
        self._finished = {k: v for k, v in self._finished.items() if v[0]() is not None}
        return shown, files

    @staticmethod
    def _moving(backend: Any, lifecycle: Lifecycle[Any], now: float) -> list[Any]:
        shown = {}
        moving = {}
        for key, batch in list(backend.batches.items()):
            if batch.state in lifecycle.terminal:
                shown[key] = batch
            else:
                shown[key] = moving[key] = _clone(batch)
        if moving:
            view = copy.copy(backend)
            view.engine = _ReadEngine(backend.engine, now)
            view.batches = moving
            view.all_batches()
        return list(shown.values())

    # -- rows ---------------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Every batch of every provider and key, the clock, and what the table's filters can choose from."""
        now = self.engine.now()
        rows: list[dict[str, Any]] = []
        for provider, namespace, backend in self.engine.store.namespaces():
            for row in self._rows(provider, namespace, backend, now):
                rows.append(row)
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

    def _rows(self, provider: str, namespace: str, backend: Any, now: float) -> Iterable[dict[str, Any]]:
        base = {"provider": provider, "key": mask(namespace), "ns": namespace_handle(provider, namespace)}
        if isinstance(backend, OpenAIBatchBackend):
            batches, _ = self._openai(backend, now)
            for batch in batches:
                yield {**base, **_openai_row(batch, now)}
        elif isinstance(backend, RetellBackend):
            for test in self._moving(backend, BATCH_TEST_LIFECYCLE, now):
                yield {**base, **_retell_row(test)}
        elif isinstance(backend, FormantBackend):
            for call in self._moving(backend, BATCH_CALL_LIFECYCLE, now):
                yield {**base, **_formant_row(call)}

    def detail(self, provider: str, ns: str, batch_id: str) -> dict[str, Any]:
        """One batch with its timeline, counts and provider parts (line previews, runs, calls and metrics)."""
        now = self.engine.now()
        for name, namespace, backend in self.engine.store.namespaces(provider):
            if namespace_handle(name, namespace) != ns:
                continue
            base = {"provider": name, "key": mask(namespace), "ns": ns, "now": now}
            if isinstance(backend, OpenAIBatchBackend):
                batches, files = self._openai(backend, now)
                for batch in batches:
                    if batch.id == batch_id:
                        return {**base, **_openai_row(batch, now), **_openai_detail(batch, files, backend)}
            elif isinstance(backend, RetellBackend):
                for test in self._moving(backend, BATCH_TEST_LIFECYCLE, now):
                    if test.id == batch_id:
                        return {**base, **_retell_row(test), **_retell_detail(test, self.engine.settings.seed)}
            elif isinstance(backend, FormantBackend):
                for call in self._moving(backend, BATCH_CALL_LIFECYCLE, now):
                    if str(call.id) == batch_id:
                        return {**base, **_formant_row(call), **_formant_detail(call)}
        raise NotFoundInView(f"no {provider} batch {batch_id!r} under that key")


# -- per provider: what a row and a detail show ----------------------------------------------------------


def _openai_row(batch: Batch, now: float) -> dict[str, Any]:
    counts = batch.request_counts(now)
    label = ", ".join(f"{k}={v}" for k, v in (batch.metadata or {}).items())
    return {
        "id": batch.id,
        "kind": "batch",
        "label": label,
        "status": batch.state,
        "created": batch.created_at,
        "timeline": _timeline(batch),
        "planned": _planned(BATCH_LIFECYCLE, batch),
        "progress": {"total": counts["total"] or len(batch.lines), "succeeded": counts["completed"], "failed": counts["failed"]},
        "counts": counts,
        "counts_label": "request_counts",
    }


def _openai_detail(batch: Batch, files: dict[str, File], backend: OpenAIBatchBackend) -> dict[str, Any]:
    written = batch.state in BATCH_LIFECYCLE.terminal and batch.state != "failed"
    real = backend.batches.get(batch.id)
    webhook = batch.extra.get("webhook") or None
    return {
        "endpoint": batch.endpoint,
        "model": batch.model,
        "metadata": batch.metadata,
        "scenario": batch.plan.scenario,
        "expires_at": batch.expires_at,
        "errors": [e.as_dict() for e in batch.validation_errors] if batch.state == "failed" else [],
        # the real batch writes its files when a client next reads it; their ids are drawn then
        "results_pending": written and real is not None and real.state not in BATCH_LIFECYCLE.terminal,
        "usage": batch.usage,
        "webhook": None if webhook is None else {"url": webhook.get("url"), "events": webhook.get("events", []), "has_secret": bool(webhook.get("secret"))},
        "files": {
            "input": _preview(files.get(batch.input_file_id)),
            "output": _preview(files.get(batch.output_file_id)) if batch.output_file_id else None,
            "error": _preview(files.get(batch.error_file_id)) if batch.error_file_id else None,
        },
    }


def _retell_row(test: BatchTest) -> dict[str, Any]:
    counts = {**test.counts(), "total_count": len(test.runs)}
    return {
        "id": test.id,
        "kind": "batch_test",
        "label": ", ".join(sorted({run.definition.name for run in test.runs}))[:200],
        "status": test.state,
        "created": test.created,
        "timeline": _timeline(test),
        "planned": _planned(BATCH_TEST_LIFECYCLE, test),
        "progress": {"total": len(test.runs), "succeeded": counts["pass_count"], "failed": counts["fail_count"] + counts["error_count"]},
        "counts": counts,
        "counts_label": "counts",
    }


def _retell_detail(test: BatchTest, seed: int) -> dict[str, Any]:
    runs = [
        {
            "id": run.id,
            "name": run.definition.name,
            "status": run.state,
            "starts_at": run.starts_at,
            "ends_at": run.ends_at,
            "explanation": run.explanation(seed),
        }
        for run in test.runs[:MAX_ITEMS]
    ]
    return {"response_engine": test.response_engine, "scenario": test.scenario, "runs": runs, "runs_total": len(test.runs)}


def _formant_row(batch: BatchCall) -> dict[str, Any]:
    metrics = batch.metrics()
    total = batch.total_recipients
    return {
        "id": str(batch.id),
        "kind": "batch_call",
        "label": batch.name,
        "status": batch.state,
        "created": batch.created,
        "timeline": _timeline(batch),
        "planned": _planned(BATCH_CALL_LIFECYCLE, batch),
        "progress": {
            "total": total,
            "succeeded": metrics.get("success_count", 0),
            "failed": metrics.get("total_processed", 0) - metrics.get("success_count", 0),
        },
        "counts": metrics,
        "counts_label": "metrics",
    }


def _formant_detail(batch: BatchCall) -> dict[str, Any]:
    calls = [
        {
            "index": call.index,
            "phone": call.phone,
            "parameters": call.parameters,
            "status": call.state,
            "attempt": call.attempt + 1 if call.state != "queued" else 0,
            "attempts": [{"outcome": a.outcome, "start": a.start, "end": a.end} for a in call.attempts],
        }
        for call in batch.calls[:MAX_ITEMS]
    ]
    return {"agent_id": batch.agent_id, "scenario": batch.scenario, "metrics": batch.metrics(), "calls": calls, "calls_total": len(batch.calls)}


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
