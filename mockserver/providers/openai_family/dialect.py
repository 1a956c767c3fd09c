"""What an OpenAI-compatible provider changes: each dialect states only its differences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from ...core.engine import Engine
from ..base import Call
from .models import Batch, File, OpenAIBatchBackend


def _none_extras(call: Call) -> dict[str, Any]:
    return {}


def _no_batch_additions(call: Call, batch: Batch, data: dict[str, Any]) -> dict[str, Any]:
    return data


def request_id_header(call: Call | None, response: Response) -> None:
    """``x-request-id``, which the openai SDK reads into ``error.request_id``."""
    if call is not None:
        response.headers.setdefault("x-request-id", call.request_id)


@dataclass(frozen=True)
class Dialect:
    name: str
    # "cancel" (cancelling, then cancelled) or "cancel_now" (AnyAPI: cancelled at once)
    cancel_event: str = "cancel"
    # the fields of the OpenAI batch object this provider sends
    batch_fields: frozenset[str] = frozenset()
    file_fields: frozenset[str] = frozenset()
    # request fields beyond OpenAI's that create_batch keeps (Phaseo's session_id, webhook ...)
    create_extras: Callable[[Call], dict[str, Any]] = _none_extras
    # fields added to every serialised batch (Phaseo's extended object)
    batch_additions: Callable[[Call, Batch, dict[str, Any]], dict[str, Any]] = _no_batch_additions
    # the body of a cancel answer (AnyAPI documents a 3-field body), from the whole batch object
    cancel_body: Callable[[Call, dict[str, Any]], dict[str, Any]] | None = None
    # list filter: query value -> set of internal states (Phaseo's ?status=)
    status_filter: Callable[[Call], set[str] | None] | None = None
    normalise_endpoint: Callable[[str], str] = field(default=lambda endpoint: endpoint)
    # the window of a create request that names none (Phaseo documents completion_window as optional)
    default_completion_window: str = "24h"

    def make_backend(self, engine: Engine) -> OpenAIBatchBackend:
        return OpenAIBatchBackend(engine, cancel_event=self.cancel_event)


def dialect_of(call: Call) -> Dialect:
    """The dialect of the provider ``call`` went to (its ``Provider.dialect``)."""
    dialect = call.provider.dialect
    if not isinstance(dialect, Dialect):
        raise TypeError(f"provider {call.provider.name!r} declares no openai_family Dialect (Provider.dialect)")
    return dialect


BATCH_FIELDS = (
    "id", "object", "endpoint", "model", "errors", "input_file_id", "completion_window", "status",
    "output_file_id", "error_file_id", "created_at", "in_progress_at", "expires_at", "finalizing_at",
    "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at", "request_counts",
    "metadata", "usage",
)

TIMESTAMPS = ("in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled")


def batch_object(batch: Batch, now: float, fields: frozenset[str]) -> dict[str, Any]:
    model = batch.model
    output_file_id, error_file_id = batch.result_file_ids()
    data: dict[str, Any] = {
        "id": batch.id,
        "object": "batch",
        "endpoint": batch.endpoint,
        "model": model,
        "errors": {"object": "list", "data": [e.as_dict() for e in batch.validation_errors]} if batch.state == "failed" else None,
        "input_file_id": batch.input_file_id,
        "completion_window": batch.completion_window,
        "status": batch.state,
        "output_file_id": output_file_id,
        "error_file_id": error_file_id,
        "created_at": int(batch.created_at),
        "expires_at": int(batch.expires_at),
        "request_counts": batch.request_counts(now),
        "metadata": batch.metadata,
        "usage": batch.usage,
    }
    for state in TIMESTAMPS:
        data[f"{state}_at"] = batch.timestamp(state)
    if model is None:
        del data["model"]
    if batch.usage is None:
        del data["usage"]
    ordered = {key: data[key] for key in BATCH_FIELDS if key in data and (not fields or key in fields)}
    return ordered


def file_object(file: File, fields: frozenset[str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": file.id,
        "object": "file",
        "bytes": file.bytes,
        "created_at": int(file.created_at),
        "filename": file.filename,
        "purpose": file.purpose,
        "status": "processed",
        "status_details": None,
        "expires_at": int(file.expires_at) if file.expires_at is not None else None,
    }
    return {k: v for k, v in data.items() if not fields or k in fields}
