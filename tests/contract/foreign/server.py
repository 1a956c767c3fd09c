"""An OpenAI-style batches server written for these tests, independently of the fake (no mockserver import).

It serves ``/v1/files`` and ``/v1/batches`` as AnyAPI's spec describes them, with a real-time lifecycle
(validating -> in_progress -> finalizing -> completed, a line processed every ``line_seconds``), partial
results on cancel, output and error files. ``BUGS`` are planted faults, switched on by name: each is a mistake
a real server makes, and the contract kit must catch every one of them while the faithful server passes.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# name -> what the planted fault does (the check that must catch it is in test_foreign.py)
BUGS = {
    "decreasing_counter": "request_counts.completed of a finished batch is one less on every other read",
    "completed_before_in_progress": "completed_at is ten seconds earlier than in_progress_at",
    "has_more_off_by_one": "has_more is true on a last page that is exactly full (`>=` where `>` was meant)",
    "cancel_completed_flips": "cancelling a completed batch answers 200 and turns it into a cancelled one",
    "short_output": "the output file holds one line fewer than request_counts.completed",
    "duplicate_custom_id": "the output file repeats the first line in place of the last one",
    "bad_jsonl_500": "an upload for purpose=batch with a line that is not JSON crashes the server (500)",
    "completed_at_creation": "a batch is already `completed` in the answer to its creation (a stateless mock)",
    "same_id_twice": "every create answers the id of the first batch (a stateless mock)",
    "cancel_404_after_read": "cancel answers 404 for a batch that a read just returned (a stateless mock)",
    "not_listed": "a created batch never appears in the list",
    "created_at_moves": "created_at is the time of the read, not of the creation",
    "no_partial_results": "a batch cancelled mid-run keeps its completed count but has no output file",
    "counts_exceed_total": "request_counts.failed is one more than it should be once the batch is finished",
    "wrong_key_accepted": "any bearer key is accepted",
    "file_without_status": "file objects have no `status` (the spec allows that; openai.types.FileObject requires it)",
    "line_without_choices": "the output lines' chat completions have no `choices` (openai's ChatCompletion requires it)",
}

PURPOSES = ("fine-tune", "assistants", "batch", "vision")
ENDPOINTS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings")


def error(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message, "type": kind}}, status_code=status, headers=headers)


@dataclass
class Stored:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int


@dataclass
class Job:
    id: str
    input_file_id: str
    endpoint: str
    metadata: Any
    lines: list[dict[str, Any]]  # parsed input (empty when the input was invalid)
    invalid: bool
    created: float  # real seconds
    cancelled: float | None = None
    reads: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None


@dataclass
class ForeignBatches:
    key: str
    bugs: frozenset[str] = frozenset()
    validating_seconds: float = 0.15
    line_seconds: float = 0.15
    finalizing_seconds: float = 0.05
    clock: Callable[[], float] = time.time
    files: dict[str, Stored] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # creation order of batches
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        unknown = set(self.bugs) - set(BUGS)
        if unknown:
            raise ValueError(f"unknown bugs: {sorted(unknown)}")

    # -- lifecycle ---------------------------------------------------------------------------------

    def _moments(self, job: Job) -> dict[str, float]:
        started = job.created + self.validating_seconds
        finalizing = started + self.line_seconds * len(job.lines)
        return {"in_progress": started, "finalizing": finalizing, "completed": finalizing + self.finalizing_seconds}

    def _done_lines(self, job: Job, at: float) -> int:
        moments = self._moments(job)
        if at < moments["in_progress"]:
            return 0
        return min(len(job.lines), int((at - moments["in_progress"]) / self.line_seconds))

    def _view(self, job: Job) -> dict[str, Any]:
        """The batch as it is now: states and stamps follow from its creation time (and cancel), lazily."""
        now = self.clock()
        moments = self._moments(job)
        stamps: dict[str, int | None] = {k: None for k in ("in_progress_at", "finalizing_at", "completed_at", "failed_at",
                                                             "expired_at", "cancelling_at", "cancelled_at")}
        created_at = int(job.created)
        if job.invalid:
            fails = job.created + self.validating_seconds
            if job.cancelled is not None and job.cancelled < fails:
                status, stamps["cancelled_at"] = "cancelled", int(job.cancelled)
            else:
                status = "failed" if now >= fails else "validating"
            if status == "failed":
                stamps["failed_at"] = int(fails)
            done, failed, total = 0, 0, 0
        elif job.cancelled is not None and job.cancelled < moments["completed"]:
            status = "cancelled"
            stamps["cancelled_at"] = int(job.cancelled)
            if job.cancelled >= moments["in_progress"]:
                stamps["in_progress_at"] = int(moments["in_progress"])
            done, failed, total = self._counts(job, job.cancelled)
            self._write_results(job, done + failed)
        else:
            status = "validating"
            for state in ("in_progress", "finalizing", "completed"):
                if now >= moments[state]:
                    status = state
                    stamps[f"{state}_at"] = int(moments[state])
            done, failed, total = self._counts(job, now)
            if status == "completed":
                self._write_results(job, len(job.lines))
        if "completed_before_in_progress" in self.bugs and stamps["completed_at"] is not None:
            stamps["completed_at"] = int(moments["in_progress"]) - 10
        if "completed_at_creation" in self.bugs and job.reads == 0:
            status, stamps["completed_at"] = "completed", created_at
        if "created_at_moves" in self.bugs:
            created_at = int(now) + job.reads
        if "decreasing_counter" in self.bugs and status == "completed" and job.reads % 2:
            done -= 1
        if "counts_exceed_total" in self.bugs and status == "completed":
            failed += 1
        output = job.output_file_id
        if "no_partial_results" in self.bugs and status == "cancelled":
            output = None
        job.reads += 1
        return {
            "id": job.id, "object": "batch", "endpoint": job.endpoint, "input_file_id": job.input_file_id,
            "completion_window": "24h", "status": status, "output_file_id": output, "error_file_id": job.error_file_id,
            "created_at": created_at, "expires_at": int(job.created) + 86400, **stamps,
            "request_counts": {"total": total, "completed": done, "failed": failed}, "metadata": job.metadata,
        }

    def _counts(self, job: Job, at: float) -> tuple[int, int, int]:
        processed = job.lines[: self._done_lines(job, at)]
        failed = sum(1 for line in processed if _fails(line))
        return len(processed) - failed, failed, len(job.lines)

    def _completion(self, line: dict[str, Any]) -> dict[str, Any]:
        body = {"id": f"chatcmpl-{secrets.token_hex(8)}", "object": "chat.completion", "created": int(time.time()),
                "model": str(line.get("body", {}).get("model", "gpt-4o-mini")),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}
        if "line_without_choices" in self.bugs:
            del body["choices"]
        return body

    def _write_results(self, job: Job, processed: int) -> None:
        if job.output_file_id is not None or job.error_file_id is not None or processed == 0:
            return
        lines = job.lines[:processed]
        ok = [{"id": f"batch_req_{secrets.token_hex(8)}", "custom_id": line["custom_id"],
               "response": {"status_code": 200, "request_id": secrets.token_hex(8), "body": self._completion(line)},
               "error": None} for line in lines if not _fails(line)]
        bad = [{"id": f"batch_req_{secrets.token_hex(8)}", "custom_id": line["custom_id"], "response": None,
                "error": {"code": "model_not_found", "message": "The model does not exist."}} for line in lines if _fails(line)]
        if "short_output" in self.bugs and ok:
            ok = ok[:-1]
        if "duplicate_custom_id" in self.bugs and len(ok) > 1:
            ok = ok[:-1] + [dict(ok[0])]
        if ok:
            job.output_file_id = self._store("batch_output.jsonl", "batch_output", ok)
        if bad:
            job.error_file_id = self._store("batch_errors.jsonl", "batch_output", bad)

    def _store(self, name: str, purpose: str, lines: list[dict[str, Any]]) -> str:
        content = "".join(json.dumps(line) + "\n" for line in lines).encode()
        file_id = "file-" + secrets.token_hex(12)
        self.files[file_id] = Stored(file_id, name, purpose, content, int(self.clock()))
        return file_id

    # -- HTTP --------------------------------------------------------------------------------------

    def app(self) -> Starlette:
        def guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
            async def endpoint(request: Request) -> Response:
                auth = request.headers.get("authorization", "")
                if not auth.startswith("Bearer ") or not auth[7:]:
                    return error(401, "Missing bearer authentication in header", "unauthorized")
                if auth[7:] != self.key and "wrong_key_accepted" not in self.bugs:
                    return error(401, "Incorrect API key provided", "invalid_api_key")
                result = await handler(request)
                return result  # type: ignore[no-any-return]
            return endpoint

        return Starlette(routes=[
            Route("/v1/files", guarded(self.create_file), methods=["POST"]),
            Route("/v1/files/{file_id}", guarded(self.retrieve_file), methods=["GET"]),
            Route("/v1/files/{file_id}/content", guarded(self.download_file), methods=["GET"]),
            Route("/v1/batches", guarded(self.create_batch), methods=["POST"]),
            Route("/v1/batches", guarded(self.list_batches), methods=["GET"]),
            Route("/v1/batches/{batch_id}", guarded(self.retrieve_batch), methods=["GET"]),
            Route("/v1/batches/{batch_id}/cancel", guarded(self.cancel_batch), methods=["POST"]),
        ])

    def _file(self, stored: Stored) -> dict[str, Any]:
        data = {"id": stored.id, "object": "file", "bytes": len(stored.content), "created_at": stored.created_at,
                "filename": stored.filename, "purpose": stored.purpose, "status": "processed"}
        if "file_without_status" in self.bugs:
            del data["status"]
        return data

    async def create_file(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return error(400, "The body must be multipart/form-data", "invalid_request_error")
        try:
            form = await request.form()
        except Exception:
            return error(400, "The multipart body could not be read", "invalid_request_error")
        extra = set(form.keys()) - {"file", "purpose", "expires_after[anchor]", "expires_after[seconds]"}
        if extra:
            return error(400, f"Unknown parameter(s): {', '.join(sorted(extra))}", "invalid_request_error")
        problem = _expiry_problem(form.get("expires_after[anchor]"), form.get("expires_after[seconds]"), "expires_after")
        if problem:
            return error(400, problem, "invalid_request_error")
        upload, purpose = form.get("file"), form.get("purpose")
        if purpose not in PURPOSES or len(form.getlist("purpose")) != 1 or len(form.getlist("file")) != 1:
            return error(400, f"'purpose' must be one of {', '.join(PURPOSES)}", "invalid_request_error")
        if isinstance(upload, UploadFile):
            content, filename = await upload.read(), upload.filename or "upload"
        elif isinstance(upload, str):
            content, filename = upload.encode(), "upload"
        else:
            return error(400, "'file' is required", "invalid_request_error")
        if "bad_jsonl_500" in self.bugs and purpose == "batch":
            for line in content.decode("utf-8", "replace").splitlines():
                if line.strip():
                    json.loads(line)  # the planted crash: an exception escapes as a 500
        with self.lock:
            file_id = "file-" + secrets.token_hex(12)
            self.files[file_id] = Stored(file_id, filename, str(purpose), content, int(self.clock()))
            return JSONResponse(self._file(self.files[file_id]))

    async def retrieve_file(self, request: Request) -> Response:
        stored = self.files.get(request.path_params["file_id"])
        return JSONResponse(self._file(stored)) if stored else error(404, "No such file", "not_found")

    async def download_file(self, request: Request) -> Response:
        stored = self.files.get(request.path_params["file_id"])
        if stored is None:
            return error(404, "No such file", "not_found")
        return Response(stored.content, media_type="application/octet-stream")

    async def create_batch(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return error(400, "The body is not JSON", "invalid_request_error")
        problem = _batch_request_problem(body)
        if problem:
            return error(400, problem, "invalid_request_error")
        stored = self.files.get(body["input_file_id"])
        if stored is None:
            return error(404, f"No such file: {body['input_file_id']}", "not_found")
        if stored.purpose != "batch":
            return error(400, "The input file must have purpose 'batch'", "invalid_request_error")
        lines, invalid = _parse_input(stored.content)
        with self.lock:
            job = Job("batch_" + secrets.token_hex(12), stored.id, body["endpoint"], body.get("metadata"), lines, invalid,
                      self.clock())
            if "same_id_twice" in self.bugs and self.order:
                job.id = self.order[0]
            else:
                self.order.append(job.id)
            self.jobs[job.id] = job
            return JSONResponse(self._view(job))

    async def list_batches(self, request: Request) -> Response:
        raw = request.query_params.get("limit", "20")
        try:
            limit = int(raw)
        except ValueError:
            return error(400, "'limit' must be an integer", "invalid_request_error")
        if not 1 <= limit <= 100 or len(request.query_params.getlist("limit")) > 1:
            return error(400, "'limit' must be between 1 and 100", "invalid_request_error")
        with self.lock:
            ids = [i for i in reversed(self.order) if i in self.jobs]
            if "not_listed" in self.bugs:
                ids = ids[1:]
            after = request.query_params.get("after")
            if after:
                ids = ids[ids.index(after) + 1:] if after in ids else []
            page = ids[:limit]
            more = len(ids) > limit if "has_more_off_by_one" not in self.bugs else len(ids) >= limit
            data = [self._view(self.jobs[i]) for i in page]
        return JSONResponse({"object": "list", "data": data, "first_id": page[0] if page else None,
                             "last_id": page[-1] if page else None, "has_more": more})

    async def retrieve_batch(self, request: Request) -> Response:
        with self.lock:
            job = self.jobs.get(request.path_params["batch_id"])
            return JSONResponse(self._view(job)) if job else error(404, "No such batch", "not_found")

    async def cancel_batch(self, request: Request) -> Response:
        with self.lock:
            job = self.jobs.get(request.path_params["batch_id"])
            if job is None or "cancel_404_after_read" in self.bugs:
                return error(404, "No such batch", "not_found")
            status = self._view(job)["status"]
            if status == "cancelled":
                pass  # idempotent
            elif status in ("validating", "in_progress", "finalizing"):
                job.cancelled = self.clock()
            elif "cancel_completed_flips" in self.bugs and status == "completed":
                job.cancelled = job.created  # the planted fault: history rewritten
            else:
                return error(400, f"Cannot cancel a batch with status '{status}'.", "invalid_request_error")
            return JSONResponse({"id": job.id, "object": "batch", "status": "cancelled"})


def _fails(line: dict[str, Any]) -> bool:
    body = line.get("body")
    return isinstance(body, dict) and body.get("model") == "no-such-model"


def _parse_input(content: bytes) -> tuple[list[dict[str, Any]], bool]:
    lines: list[dict[str, Any]] = []
    seen: set[str] = set()
    for raw in content.decode("utf-8", "replace").splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            return [], True
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str) or line["custom_id"] in seen:
            return [], True
        seen.add(line["custom_id"])
        lines.append(line)
    return lines, not lines


def _expiry_problem(anchor: Any, seconds: Any, name: str) -> str | None:
    """OpenAI's expiration policy: both or neither; anchor created_at; 3600..2592000 seconds."""
    if anchor is None and seconds is None:
        return None
    if anchor != "created_at":
        return f"'{name}.anchor' must be 'created_at'"
    if isinstance(seconds, str):
        seconds = int(seconds) if seconds.strip().lstrip("-").isdigit() else None
    if isinstance(seconds, float) and seconds.is_integer():  # JSON Schema's integer: 9977.0 is one
        seconds = int(seconds)
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 3600 <= seconds <= 2592000:
        return f"'{name}.seconds' must be a whole number from 3600 to 2592000"
    return None


def _batch_request_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "The body must be a JSON object"
    extra = set(body) - {"input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after"}
    if extra:
        return f"Unknown parameter(s): {', '.join(sorted(extra))}"
    if not isinstance(body.get("input_file_id"), str) or not body["input_file_id"]:
        return "'input_file_id' is required"
    if body.get("endpoint") not in ENDPOINTS:
        return f"'endpoint' must be one of {', '.join(ENDPOINTS)}"
    if body.get("completion_window") != "24h":
        return "'completion_window' must be '24h'"
    if "output_expires_after" in body:
        after = body["output_expires_after"]
        if not isinstance(after, dict) or set(after) != {"anchor", "seconds"}:
            return "'output_expires_after' must be an object with 'anchor' and 'seconds'"
        problem = _expiry_problem(after["anchor"], after["seconds"], "output_expires_after")
        if problem:
            return problem
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict) or len(metadata) > 16:
            return "'metadata' must be an object of at most 16 pairs"
        for key, value in metadata.items():
            if len(key) > 64 or not isinstance(value, str) or len(value) > 512:
                return "'metadata' keys are at most 64 characters, values strings of at most 512"
    return None
