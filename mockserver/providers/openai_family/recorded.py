"""What ``mockserver record`` makes of OpenAI-compatible traffic: ``file`` and ``batch`` fixtures (``Provider.recorder``).

The last state seen of each object wins. A file becomes a fixture when its content was seen (uploaded or
downloaded); a batch keeps its id, endpoint, window, metadata, status and counts, its input file when that is a
fixture, and the content of its output and error files when they were downloaded (or its output read through
Portkey's ``/batches/{id}/output``). ``created_at`` is left out on purpose: the fixture loader then puts the batch
in its recorded status *now*, and the simulated lifecycle goes on from there (a recorded ``in_progress`` batch
finishes on the fake's schedule, not hours ago).
"""

from __future__ import annotations

import json
from typing import Any

from ..base import Observed

BATCH_OPERATIONS = frozenset({"createBatch", "retrieveBatch", "cancelBatch"})
RESULT_STATUSES = frozenset({"completed", "expired", "cancelled"})
COUNTED_STATUSES = frozenset({"in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled"})


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _jsonl(data: bytes) -> list[Any] | None:
    try:
        return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    except (ValueError, UnicodeDecodeError):
        return None


class OpenAIRecorder:
    def __init__(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, bytes] = {}  # batch id -> its output as a batch-output endpoint answered it

    def observe(self, exchange: Observed) -> None:
        if not 200 <= exchange.status < 300:
            return
        op = exchange.operation_id
        if op == "downloadFile":
            file_id = exchange.path_params.get("file_id") or next(iter(exchange.path_params.values()), "")
            self.contents[file_id] = exchange.body
            return
        if op == "getBatchOutput":  # Portkey's GET /batches/{id}/output: the output file's lines
            self.outputs[exchange.path_params.get("batch_id", "")] = exchange.body
            return
        data = _json(exchange.body)
        if not isinstance(data, dict):
            return
        if op in ("createFile", "retrieveFile") and isinstance(data.get("id"), str):
            self.files[data["id"]] = {**self.files.get(data["id"], {}), **data}
            if op == "createFile" and exchange.upload is not None:
                self.contents.setdefault(data["id"], exchange.upload)
        elif op in BATCH_OPERATIONS and isinstance(data.get("id"), str):
            self.batches[data["id"]] = data
        elif op == "listBatches":
            for item in data.get("data") or []:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    self.batches[item["id"]] = item

    def fixtures(self) -> list[tuple[str, dict[str, Any]]]:
        results = {b.get(key) for b in self.batches.values() for key in ("output_file_id", "error_file_id")} - {None}
        out: list[tuple[str, dict[str, Any]]] = []
        files = set()
        for file_id, meta in self.files.items():
            content = self.contents.get(file_id)
            if file_id in results or content is None:
                continue
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                continue
            files.add(file_id)
            out.append(("file", {"id": file_id, "filename": str(meta.get("filename") or f"{file_id}.jsonl"),
                                 "purpose": str(meta.get("purpose") or "batch"), "content": text}))
        for batch_id, batch in self.batches.items():
            out.append(("batch", self._batch(batch_id, batch, files)))
        return out

    def _batch(self, batch_id: str, batch: dict[str, Any], files: set[str]) -> dict[str, Any]:
        status = str(batch.get("status") or "validating")
        data: dict[str, Any] = {"id": batch_id, "status": status}
        for key in ("endpoint", "completion_window"):
            if isinstance(batch.get(key), str):
                data[key] = batch[key]
        metadata = batch.get("metadata")
        if isinstance(metadata, dict) and metadata and all(isinstance(v, str) for v in metadata.values()):
            data["metadata"] = metadata
        if batch.get("input_file_id") in files:
            data["input_file_id"] = batch["input_file_id"]
        counts = batch.get("request_counts")
        if status in COUNTED_STATUSES and isinstance(counts, dict) and counts.get("total"):
            data["request_counts"] = {k: int(counts.get(k) or 0) for k in ("total", "completed", "failed")}
        if status == "failed":
            errors = (batch.get("errors") or {}).get("data") if isinstance(batch.get("errors"), dict) else None
            if errors:
                data["errors"] = [{k: e[k] for k in ("code", "message", "line", "param") if e.get(k) is not None}
                                  for e in errors if isinstance(e, dict) and "code" in e and "message" in e]
        if status in RESULT_STATUSES:
            for key, target in (("output_file_id", "output_lines"), ("error_file_id", "error_lines")):
                content = self.contents.get(batch.get(key) or "")
                if content is None and key == "output_file_id":
                    content = self.outputs.get(batch_id)
                lines = _jsonl(content) if content is not None else None
                if lines is not None:
                    data[target] = lines
        return data


def recorder() -> OpenAIRecorder:
    return OpenAIRecorder()
