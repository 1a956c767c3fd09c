"""A Portkey-style gateway for batches, written for these tests from specs/portkey.yaml and PROVIDERS.md section 3
(no mockserver import, no line of the fake): files (upload, list with purpose/order/after, read, delete, content),
batches (create, list newest first, read, cancel through ``cancelling``) and Portkey's ``/batches/{id}/output``.

Its lifecycle runs in real time (validating -> in_progress -> finalizing -> completed in well under a second).
``BUGS`` are planted faults, switched on by name (``server.bugs``, changeable while it serves): each is a mistake
a gateway or a hand-written fake makes; the contract kit must catch every one while the faithful server passes.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.contract.foreign.spec_rules import Rules, integer

# name -> what the planted fault does (the check that must catch it: tests/contract/test_foreign_gateways.py)
BUGS = {
    "metadata_dropped": "a read of a batch answers metadata null (only the create's answer keeps it)",
    "list_metadata_stale": "batches in the list carry metadata {} (a stale list cache)",
    "filename_lost": "file objects name every upload 'file' instead of the uploaded file's name",
    "unknown_input_accepted": "a batch of an input_file_id that was never uploaded is accepted",
    "deleted_still_readable": "a deleted file answers deleted=true but can still be read",
    "deleted_still_listed": "a deleted file is 404 on read but stays in the file list",
    "output_missing_line": "/batches/{id}/output leaves out the last line of the output file",
    "purpose_filter_ignored": "GET /files ignores ?purpose=",
    "order_param_ignored": "GET /files?order=asc answers newest first anyway",
    "batches_oldest_first": "GET /batches lists oldest first (OpenAI lists newest first)",
    "unknown_batch_empty_200": "GET /batches/{id} of an unknown id answers 200 with {}",
    "unknown_file_400": "an unknown file id answers 400 instead of 404",
    "framework_404": "an unknown batch's cancel answers the framework's 404 {'detail': 'Not Found'}",
    "created_at_ms": "a batch's created_at is in milliseconds",
    "cancel_answers_old_state": "a cancel answers the batch's previous status; only later reads say 'cancelling'",
    "canceled_spelling": "a cancelled batch reads 'canceled' (not in the spec's enum) once the cancel is done",
}

PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
RULES = Rules("portkey")


def provider_error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}, "provider": "openai"},
                        status_code=status)


def gateway_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"status": "failure", "message": message}, status_code=status)


@dataclass
class File:
    id: str
    filename: str
    purpose: str
    content: bytes
    created: float
    deleted: bool = False


@dataclass
class Batch:
    id: str
    input_file_id: str
    endpoint: str
    window: str
    metadata: Any
    lines: list[str] | None  # the input's custom_ids; None: the input is not a batch input (the batch fails)
    created: float
    cancel_at: float | None = None
    output_file_id: str | None = None


@dataclass
class PortkeyGateway:
    key: str
    bugs: set[str] = field(default_factory=set)
    validating: float = 0.15
    per_line: float = 0.1
    finalizing: float = 0.05
    cancelling: float = 0.15
    files: dict[str, File] = field(default_factory=dict)
    batches: dict[str, Batch] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def reset(self, *bugs: str) -> None:
        unknown = set(bugs) - set(BUGS)
        if unknown:
            raise ValueError(f"unknown bugs: {sorted(unknown)}")
        with self.lock:
            self.bugs = set(bugs)
            self.files.clear()
            self.batches.clear()

    # -- the batch as it is now ---------------------------------------------------------------------

    def _state(self, batch: Batch, now: float) -> tuple[str, dict[str, float], int]:
        """(status, moment of each state reached, lines done)."""
        moments = {"validating": batch.created}
        started = batch.created + self.validating
        if batch.lines is None:
            ends = started
            if batch.cancel_at is not None and batch.cancel_at < ends:
                return self._cancelled(batch, moments, now, 0)
            if now >= ends:
                moments["failed"] = ends
                return "failed", moments, 0
            return "validating", moments, 0
        finalizing = started + self.per_line * len(batch.lines)
        completed = finalizing + self.finalizing
        if batch.cancel_at is not None and batch.cancel_at < completed:
            cut = batch.cancel_at
            if cut >= started:
                moments["in_progress"] = started
            if cut >= finalizing:
                moments["finalizing"] = finalizing
            done = 0 if cut < started else min(len(batch.lines), int((cut - started) / self.per_line))
            return self._cancelled(batch, moments, now, done)
        status = "validating"
        for state, at in (("in_progress", started), ("finalizing", finalizing), ("completed", completed)):
            if now >= at:
                status, moments[state] = state, at
        done = 0 if now < started else min(len(batch.lines), int((now - started) / self.per_line))
        return status, moments, done

    def _cancelled(self, batch: Batch, moments: dict[str, float], now: float, done: int) -> tuple[str, dict[str, float], int]:
        assert batch.cancel_at is not None
        moments["cancelling"] = batch.cancel_at
        if now >= batch.cancel_at + self.cancelling:
            moments["cancelled"] = batch.cancel_at + self.cancelling
            return "cancelled", moments, done
        return "cancelling", moments, done

    def _view(self, batch: Batch, listed: bool = False, created: bool = False) -> dict[str, Any]:
        now = time.time()
        status, moments, done = self._state(batch, now)
        if status in ("completed", "cancelled") and done and batch.output_file_id is None:
            assert batch.lines is not None
            content = "".join(json.dumps({"id": f"batch_req_{secrets.token_hex(6)}", "custom_id": custom_id,
                                          "response": {"status_code": 200, "request_id": secrets.token_hex(6),
                                                       "body": {"id": f"chatcmpl-{secrets.token_hex(8)}", "object": "chat.completion",
                                                                "created": int(now), "model": "gpt-4o-mini",
                                                                "choices": [{"index": 0, "finish_reason": "stop",
                                                                             "message": {"role": "assistant", "content": "ok"}}]}},
                                          "error": None}) + "\n" for custom_id in batch.lines[:done])
            output = self._store("batch_output.jsonl", "batch_output", content.encode(), moments.get("completed") or now)
            batch.output_file_id = output.id
        stamp = {f"{state}_at": int(at) for state, at in moments.items() if state != "validating"}
        shown = status
        if "canceled_spelling" in self.bugs and status == "cancelled":
            shown = "canceled"
        metadata = batch.metadata
        if "metadata_dropped" in self.bugs and not created:
            metadata = None
        if "list_metadata_stale" in self.bugs and listed:
            metadata = {}
        created_at = int(batch.created * 1000) if "created_at_ms" in self.bugs else int(batch.created)
        total = len(batch.lines or [])
        return {
            "id": batch.id, "object": "batch", "endpoint": batch.endpoint, "input_file_id": batch.input_file_id,
            "completion_window": batch.window, "status": shown, "created_at": created_at,
            "expires_at": int(batch.created) + 86400,
            **{k: stamp.get(k) for k in ("in_progress_at", "finalizing_at", "completed_at", "failed_at", "expired_at",
                                         "cancelling_at", "cancelled_at")},
            "output_file_id": batch.output_file_id, "error_file_id": None,
            "errors": {"object": "list", "data": [{"code": "invalid_json_line", "message": "The input is not a batch input.",
                                                   "param": None, "line": 1}]} if status == "failed" else None,
            "request_counts": {"total": total, "completed": done, "failed": 0}, "metadata": metadata,
        }

    def _store(self, filename: str, purpose: str, content: bytes, created: float) -> File:
        stored = File("file-" + secrets.token_hex(12), filename, purpose, content, created)
        self.files[stored.id] = stored
        return stored

    def _file(self, stored: File) -> dict[str, Any]:
        return {"id": stored.id, "object": "file", "bytes": len(stored.content), "created_at": int(stored.created),
                "filename": "file" if "filename_lost" in self.bugs else stored.filename, "purpose": stored.purpose,
                "status": "processed", "status_details": None, "expires_at": None}

    # -- HTTP ---------------------------------------------------------------------------------------

    def app(self) -> Starlette:
        def guarded(handler: Any) -> Any:
            async def endpoint(request: Request) -> Response:
                if request.headers.get("x-portkey-api-key") != self.key:
                    return gateway_error(401, "Invalid API Key")
                if not any(request.headers.get(h) for h in ("x-portkey-virtual-key", "x-portkey-provider", "x-portkey-config")):
                    return gateway_error(400, "Either x-portkey-config or x-portkey-provider header is required")
                with self.lock:
                    return await handler(request)  # type: ignore[no-any-return]
            return endpoint

        return Starlette(routes=[
            Route("/v1/files", guarded(self.create_file), methods=["POST"]),
            Route("/v1/files", guarded(self.list_files), methods=["GET"]),
            Route("/v1/files/{file_id}", guarded(self.retrieve_file), methods=["GET"]),
            Route("/v1/files/{file_id}", guarded(self.delete_file), methods=["DELETE"]),
            Route("/v1/files/{file_id}/content", guarded(self.file_content), methods=["GET"]),
            Route("/v1/batches", guarded(self.create_batch), methods=["POST"]),
            Route("/v1/batches", guarded(self.list_batches), methods=["GET"]),
            Route("/v1/batches/{batch_id}", guarded(self.retrieve_batch), methods=["GET"]),
            Route("/v1/batches/{batch_id}/cancel", guarded(self.cancel_batch), methods=["POST"]),
            Route("/v1/batches/{batch_id}/output", guarded(self.batch_output), methods=["GET"]),
        ])

    def _live_file(self, file_id: str) -> File | None:
        stored = self.files.get(file_id)
        if stored is None or (stored.deleted and "deleted_still_readable" not in self.bugs):
            return None
        return stored

    def _no_file(self, file_id: str) -> Response:
        if "unknown_file_400" in self.bugs:
            return provider_error(400, f"Invalid file id: {file_id}")
        return provider_error(404, f"No such File object: {file_id}", code="not_found")

    async def create_file(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return gateway_error(400, "Invalid content type passed")
        try:
            form = await request.form()
        except Exception:
            return provider_error(400, "The multipart body could not be read")
        values: dict[str, Any] = {}
        filename, content = "upload", b""
        for key in form:
            if len(form.getlist(key)) != 1:
                return provider_error(400, f"'{key}' is given more than once")
            value = form[key]
            if isinstance(value, UploadFile):
                content = await value.read()
                filename = value.filename or "upload"
                values[key] = content.decode("utf-8", "replace")
            elif key == "expires_after[seconds]":
                values[key] = integer(value) if integer(value) is not None else value
            else:
                values[key] = value
                if key == "file":
                    content = value.encode()
        problem = RULES.problem("CreateFileRequest", values)
        if problem:
            return provider_error(400, problem)
        return JSONResponse(self._file(self._store(filename, values["purpose"], content, time.time())))

    async def list_files(self, request: Request) -> Response:
        query = request.query_params
        limit = integer(query.get("limit", "10000"))
        if limit is None or not 1 <= limit <= 10000 or any(len(query.getlist(k)) > 1 for k in query):
            return provider_error(400, "'limit' must be a whole number from 1 to 10000")
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            return provider_error(400, "'order' must be 'asc' or 'desc'")
        if "order_param_ignored" in self.bugs:
            order = "desc"
        for batch in self.batches.values():
            self._view(batch)  # finished batches' result files join the list
        files = [f for f in self.files.values() if not f.deleted or "deleted_still_listed" in self.bugs]
        purpose = query.get("purpose")
        if purpose is not None and "purpose_filter_ignored" not in self.bugs:
            files = [f for f in files if f.purpose == purpose]
        files = files if order == "asc" else files[::-1]  # kept in upload order
        return self._page([f.id for f in files], [self._file(f) for f in files], query.get("after"), limit)

    def _page(self, ids: list[str], items: list[dict[str, Any]], after: str | None, limit: int) -> Response:
        start = ids.index(after) + 1 if after in ids else (len(ids) if after else 0)
        page = items[start:start + limit]
        return JSONResponse({"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
                             "last_id": page[-1]["id"] if page else None, "has_more": start + limit < len(items)})

    async def retrieve_file(self, request: Request) -> Response:
        stored = self._live_file(request.path_params["file_id"])
        return JSONResponse(self._file(stored)) if stored else self._no_file(request.path_params["file_id"])

    async def delete_file(self, request: Request) -> Response:
        stored = self.files.get(request.path_params["file_id"])
        if stored is None or stored.deleted:
            return self._no_file(request.path_params["file_id"])
        stored.deleted = True
        return JSONResponse({"id": stored.id, "object": "file", "deleted": True})

    async def file_content(self, request: Request) -> Response:
        stored = self._live_file(request.path_params["file_id"])
        if stored is None:
            return self._no_file(request.path_params["file_id"])
        return Response(stored.content, media_type="application/octet-stream")

    async def create_batch(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return gateway_error(400, "Invalid content type passed")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return provider_error(400, "The body is not JSON")
        problem = RULES.problem("CreateBatchRequest", body)
        if problem:
            return provider_error(400, problem)
        stored = self._live_file(body["input_file_id"])
        if stored is None and "unknown_input_accepted" not in self.bugs:
            return provider_error(404, f"No such File object: {body['input_file_id']}", code="not_found")
        if stored is not None and stored.purpose != "batch":
            return provider_error(400, "The input file must have purpose 'batch'")
        lines = _custom_ids(stored.content) if stored is not None else None
        batch = Batch("batch_" + secrets.token_hex(12), body["input_file_id"], body["endpoint"], body["completion_window"],
                      body.get("metadata"), lines, time.time())
        self.batches[batch.id] = batch
        return JSONResponse(self._view(batch, created=True))

    async def list_batches(self, request: Request) -> Response:
        query = request.query_params
        limit = integer(query.get("limit", "20"))
        if limit is None or not 1 <= limit <= 100 or any(len(query.getlist(k)) > 1 for k in query):
            return provider_error(400, "'limit' must be a whole number from 1 to 100")
        batches = list(self.batches.values())
        if "batches_oldest_first" not in self.bugs:
            batches.reverse()
        return self._page([b.id for b in batches], [self._view(b, listed=True) for b in batches], query.get("after"), limit)

    async def retrieve_batch(self, request: Request) -> Response:
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            if "unknown_batch_empty_200" in self.bugs:
                return JSONResponse({})
            return provider_error(404, f"No batch found with id '{request.path_params['batch_id']}'", code="not_found")
        return JSONResponse(self._view(batch))

    async def cancel_batch(self, request: Request) -> Response:
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            if "framework_404" in self.bugs:
                return JSONResponse({"detail": "Not Found"}, status_code=404)
            return provider_error(404, f"No batch found with id '{request.path_params['batch_id']}'", code="not_found")
        before = self._view(batch)
        status = self._state(batch, time.time())[0]
        if status in ("completed", "failed", "expired"):
            return provider_error(400, f"Cannot cancel a batch with status '{status}'.")
        if status in ("validating", "in_progress", "finalizing"):
            batch.cancel_at = time.time()
        if "cancel_answers_old_state" in self.bugs and status != "cancelled":
            return JSONResponse({**self._view(batch), "status": before["status"], "cancelling_at": None})
        return JSONResponse(self._view(batch))

    async def batch_output(self, request: Request) -> Response:
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            return provider_error(404, f"No batch found with id '{request.path_params['batch_id']}'", code="not_found")
        view = self._view(batch)
        if view["output_file_id"] is None:
            if view["errors"] is not None:
                # the gateway answers the errors when there is no output file (GW-PK); the spec declares text only
                return Response(json.dumps(view["errors"]), media_type="text/plain")
            return provider_error(404, "The batch has no output yet.", code="not_found")
        content = self.files[view["output_file_id"]].content
        if "output_missing_line" in self.bugs:
            content = b"".join(content.splitlines(keepends=True)[:-1])
        return Response(content, media_type="application/octet-stream")


def _custom_ids(content: bytes) -> list[str] | None:
    """The custom_ids of a batch input (JSONL of request lines); None when a line is not one."""
    ids: list[str] = []
    for raw in content.decode("utf-8", "replace").splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str) or line["custom_id"] in ids:
            return None
        if not isinstance(line.get("body"), dict) or not isinstance(line.get("url"), str):
            return None
        ids.append(line["custom_id"])
    return ids or None
