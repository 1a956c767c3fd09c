"""Lifecycle and data invariants over the stream of requests the kit sends and the answers it gets.

Unlike the observer (``semantics.py``), which sees answers only, these checks see each whole step (what was
sent, with its files and bodies, and what came back), so they can hold a server to what it was asked:

- ``initial_state``: a created resource starts in a state its provider documents as initial
- ``distinct_ids``: two creates never answer the same id
- ``created_listed``: a resource created in the run is in the (complete) first page of its list
- ``terminal_refuses_mutation``: a cancel (or other mutation) of a finished resource is refused as documented
- ``mutation_finds_resource``: a mutation never answers 404 for a resource that was read a moment before
- ``results_consistent`` / ``partial_results``: the result files (or runs, or metrics) of a finished resource
  agree with its counts and its input (every input line exactly once); ``partial_results`` at cancel/expiry
- ``sdk_models``: where the provider's official SDK is installed, every answer parses with its models, and every
  line of an OpenAI-family result file with the model of its batch's endpoint (``openai_result_lines``)
- ``round_trip``: what a create sent (metadata, names, agent ids, endpoint, window, purpose) comes back unchanged
  in the create's answer, on every read and in every list
- ``timestamps_units``: timestamps are in the profile's unit (seconds unless it says ms) and lie near the
  answer's ``Date`` header (a create's own time within an hour of it; no state time in the future)
- ``mutation_answer_state``: where the provider documents the state a mutation answers (a cancel answers
  ``cancelling``), the answer itself says so, not only later reads

Every check works from the steps alone, so replaying the saved steps of a finding re-runs the same checks.
"""

from __future__ import annotations

import email.utils
import importlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .report import Finding

if TYPE_CHECKING:
    from .profiles import Resource, View
    from .semantics import Observer


@dataclass
class Step:
    """One request the kit sent and the answer it got (``at``: seconds since the run started)."""

    operation_id: str
    label: str
    method: str
    path: str  # the operation's path template
    path_params: dict[str, str]
    query: dict[str, Any] | None
    json_body: Any
    files: dict[str, tuple[str, bytes, str]] | None
    data: dict[str, str] | None
    status: int
    body: Any  # the answer's JSON, or None
    text: str  # the answer as text when it is not JSON (downloads), else ""
    at: float
    headers: dict[str, str] = field(default_factory=dict)

    def ok(self) -> bool:
        return 200 <= self.status < 300


class Ledger:
    """What the kit's steps created, uploaded and downloaded, checked as it grows (see the module docstring)."""

    def __init__(self, observer: Observer, sdk: bool = True) -> None:
        self.observer = observer
        self.profile = observer.profile
        self.report = observer.report
        self.created: dict[str, dict[str, str]] = {}  # resource -> id -> label of the create that made it
        self.memory: dict[str, Any] = {}  # provider hooks keep their state here
        self.sdk = sdk
        self.phase = ""
        self.done: set[tuple[Any, ...]] = set()  # evaluations that must run once (results of one terminal snapshot)
        self.gone: set[tuple[str, str]] = set()  # (resource, id) deleted in this run
        self.sent: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}  # (resource, id) -> (what its create sent, label)

    # -- reporting -------------------------------------------------------------------------------

    def result(self, step: Step, check: str, problems: list[str], example: str, label: str | None = None) -> None:
        label = label or step.label
        if not problems:
            self.report.passed(label, check)
            return
        for problem in problems:
            self.report.fail(Finding(operation=label, check=check, title=problem, message=problem, example=example,
                                     phase=self.phase))

    # -- the stream ------------------------------------------------------------------------------

    def before(self, step: Step, example: str) -> None:
        """Checks against what was known before this answer (the observer has not seen it yet)."""
        for resource in self.profile.resources:
            refusal = resource.mutations.get(step.operation_id)
            if refusal is None:
                continue
            param = resource.retrieve[1] if resource.retrieve else None
            ident = step.path_params.get(param) if param else None
            previous = self.observer.seen.get((resource.name, str(ident))) if ident is not None else None
            if previous is None:
                continue
            if step.status == 404:
                self.result(step, "mutation_finds_resource", [
                    f"{resource.name} {ident} was answered a moment ago (status {previous.status!r}), but "
                    f"{step.label} answered 404"], example)
                continue
            self.report.passed(step.label, "mutation_finds_resource")
            lifecycle = resource.lifecycle
            documented = resource.answers.get(step.operation_id)
            if documented and step.ok() and lifecycle is not None and previous.status not in lifecycle.terminal:
                self._answer_state(resource, step, str(ident), previous.status, documented, example)
            if lifecycle is None or previous.status not in lifecycle.terminal:
                continue
            statuses, idempotent = refusal
            problems = []
            if previous.status in idempotent:
                if not (step.ok() or step.status in statuses):
                    problems.append(f"{step.label} of a {previous.status!r} {resource.name} answered {step.status}; "
                                    f"documented: 2xx (repeating it changes nothing) or {'/'.join(map(str, statuses))}")
            elif step.status not in statuses:
                problems.append(f"{step.label} of a {previous.status!r} {resource.name} answered {step.status}; "
                                f"a finished {resource.name} must be refused with {'/'.join(map(str, statuses))}")
            self.result(step, "terminal_refuses_mutation", problems, example)

    def after(self, step: Step, example: str) -> None:
        """Checks of the answer itself, once the observer has recorded it."""
        if not step.ok():
            for hook in self.profile.invariants:
                hook(self, step, example)
            return
        for resource in self.profile.resources:
            if resource.delete == step.operation_id and resource.retrieve:
                self.gone.add((resource.name, str(step.path_params.get(resource.retrieve[1]))))
            for view in resource.views:
                if view.operation_id != step.operation_id:
                    continue
                items = self.observer.extract(resource, view, step.body, step.path_params)
                if view.creates:
                    self._created(resource, step, items, example)
                if view.many:
                    self._listed(resource, view, step, items, example)
                self._round_trip(resource, view, step, items, example)
                self._times(resource, view, step, items, example)
        if self.sdk:
            self._sdk(step, example)
        for hook in self.profile.invariants:
            hook(self, step, example)

    def _created(self, resource: Resource, step: Step, items: list[tuple[str, dict[str, Any]]], example: str) -> None:
        known = self.created.setdefault(resource.name, {})
        for ident, item in items:
            problems = []
            if ident in known:
                problems.append(f"{step.label} answered the id {ident} again: an earlier create ({known[ident]}) already made it")
            self.result(step, "distinct_ids", problems, example)
            known.setdefault(ident, step.label)
            lifecycle = resource.lifecycle
            status = item.get(resource.status) if resource.status else None
            if lifecycle is not None and isinstance(status, str):
                problems = [] if status in lifecycle.initial else [
                    f"{resource.name} {ident} is {status!r} in the answer to its creation; it must start "
                    f"{' or '.join(repr(s) for s in sorted(lifecycle.initial))}"]
                self.result(step, "initial_state", problems, example)

    def _answer_state(self, resource: Resource, step: Step, ident: str, before: str | None, documented: frozenset[str],
                      example: str) -> None:
        view = next((v for v in resource.views if v.operation_id == step.operation_id), None)
        items = self.observer.extract(resource, view, step.body, step.path_params) if view is not None else []
        status = items[0][1].get(resource.status) if items and resource.status else None
        problems = [] if status in documented else [
            f"{step.label} of a {before!r} {resource.name} {ident} answered status {status!r}; the provider documents "
            f"{' or '.join(repr(s) for s in sorted(documented))} in that answer"]
        self.result(step, "mutation_answer_state", problems, example)

    def _round_trip(self, resource: Resource, view: View, step: Step, items: list[tuple[str, dict[str, Any]]], example: str) -> None:
        from .profiles import dig

        if resource.echo is None:
            return
        if view.creates:
            for ident, _ in items:
                self.sent[(resource.name, ident)] = (resource.echo(step), step.label)
        for ident, item in items:
            sent = self.sent.get((resource.name, ident))
            if sent is None:
                continue
            expected, created_by = sent
            problems = []
            for name, value in expected.items():
                got = dig(item, name)
                if got is None and (view.partial or (name not in item and "." not in name and value is None)):
                    continue
                if not same(got, value):
                    where = "the answer to its creation" if view.creates else ("the list" if view.many else "this answer")
                    problems.append(f"{resource.name} {ident} was created with {name} = {json.dumps(value)} ({created_by}), "
                                    f"but {where} says {json.dumps(got)}")
            self.result(step, "round_trip", problems, example)

    def _times(self, resource: Resource, view: View, step: Step, items: list[tuple[str, dict[str, Any]]], example: str) -> None:
        from .profiles import as_time

        fields = resource.time_fields or tuple(dict.fromkeys(resource.state_timestamps.values()))
        if not fields or not items:
            return
        now = answer_date(step.headers)
        scale = 1000.0 if resource.time_unit == "ms" else 1.0
        unit = "milliseconds" if resource.time_unit == "ms" else "seconds"
        first = fields[0]
        for ident, item in items:
            problems = []
            for name in fields:
                value = item.get(name)
                if isinstance(value, bool) or value is None:
                    continue
                if isinstance(value, (int, float)):
                    if resource.time_unit == "s" and value > 1e11:
                        problems.append(f"{name} = {value} is not in seconds (it looks like milliseconds)")
                        continue
                    if resource.time_unit == "ms" and value < 1e11:
                        problems.append(f"{name} = {value} is not in milliseconds (it looks like seconds)")
                        continue
                    at: float | None = value / scale
                else:
                    at = as_time(value)
                if at is None:
                    continue
                if at > now + TIME_TOLERANCE:
                    problems.append(f"{name} = {value!r} lies {at - now:.0f}s after the answer's Date header ({unit} expected)")
                elif view.creates and name == first and at < now - TIME_TOLERANCE:
                    problems.append(f"{name} = {value!r} of a resource created just now lies {now - at:.0f}s before the "
                                    f"answer's Date header ({unit} expected)")
            self.result(step, "timestamps_units", [f"{resource.name} {ident}: {p}" for p in problems], example)

    def _listed(self, resource: Resource, view: View, step: Step, items: list[tuple[str, dict[str, Any]]], example: str) -> None:
        pagination = next((p for p in self.profile.pagination if p.operation_id == step.operation_id), None)
        if pagination is None or not isinstance(step.body, dict):
            return
        query = step.query or {}
        if pagination.cursor_param and query.get(pagination.cursor_param) not in (None, "", 0, "0"):
            return  # not the first page
        fixed = set(pagination.query(self.observer.context) if pagination.query and self.observer.context is not None else {})
        if set(query) - fixed - {pagination.limit_param, pagination.cursor_param, pagination.order_param}:
            return  # a filtered list (list_filter checks those)
        if pagination.has_more and step.body.get(pagination.has_more) is not False:
            return  # not the whole list
        listed = {ident for ident, _ in items}
        mine = self.created.get(resource.name, {})
        missing = sorted(set(mine) - listed - {ident for name, ident in self.gone if name == resource.name})
        self.result(step, "created_listed", [
            f"{resource.name} {ident} was created in this run ({mine[ident]}) but the whole list ({len(listed)} items, "
            f"{pagination.has_more}=false) does not hold it" for ident in missing], example)

    def _sdk(self, step: Step, example: str) -> None:
        spec = self.profile.sdk_models.get(step.operation_id)
        if spec is None:
            return
        dotted, where = spec
        model = load_model(dotted)
        if model is None:
            return  # the SDK is not installed: nothing to hold the answer to
        values = step.body
        if where == "data[]":
            values = step.body.get("data") if isinstance(step.body, dict) else None
        elif where == "items[]":
            values = step.body.get("items") if isinstance(step.body, dict) else None
        elif where:
            values = step.body.get(where) if isinstance(step.body, dict) else None
        problems = []
        for value in values if isinstance(values, list) else [values]:
            try:
                model.model_validate(value)
            except Exception as exc:
                first = str(exc).strip().splitlines()
                problems.append(f"the answer does not parse as {dotted}: {' '.join(first[:3])[:300]}")
                break
        self.result(step, "sdk_models", problems, example)


# how far a timestamp may lie from the answer's Date header (a fake's clock may run fast for a while)
TIME_TOLERANCE = 3600.0


def answer_date(headers: dict[str, str]) -> float:
    """The answer's ``Date`` header as seconds, or this machine's clock when there is none."""
    value = next((v for k, v in headers.items() if k.lower() == "date"), None)
    if value:
        try:
            return email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            pass
    return time.time()


def same(got: Any, sent: Any) -> bool:
    """Whether an answer gives back what was sent; a form field is text, so ``"7"`` sent is ``7`` given back."""
    if isinstance(sent, str) and isinstance(got, (int, float)) and not isinstance(got, bool):
        return sent == str(got)
    return bool(got == sent)


_MODELS: dict[str, Any] = {}


def load_model(dotted: str) -> Any:
    """``package.module.Class`` if the package is installed, else None (memoised)."""
    if dotted not in _MODELS:
        module, _, name = dotted.rpartition(".")
        try:
            _MODELS[dotted] = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            _MODELS[dotted] = None
    return _MODELS[dotted]


# -- provider hooks -----------------------------------------------------------------------------------


def jsonl_custom_ids(content: bytes | str) -> list[str] | None:
    """The custom_id of every line of a JSONL batch file; None if a line is not a JSON object with one."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    ids = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            return None
        if not isinstance(item, dict) or not isinstance(item.get("custom_id"), str):
            return None
        ids.append(item["custom_id"])
    return ids


# the openai SDK's model of each batch endpoint's answer (a result line's response.body)
LINE_MODELS = {
    "/v1/chat/completions": "openai.types.chat.ChatCompletion", "/v1/completions": "openai.types.Completion",
    "/v1/embeddings": "openai.types.CreateEmbeddingResponse", "/v1/responses": "openai.types.responses.Response",
    "/v1/moderations": "openai.types.ModerationCreateResponse", "/v1/images/generations": "openai.types.ImagesResponse",
    "/v1/images/edits": "openai.types.ImagesResponse", "/v1/videos": "openai.types.Video",
}
ERROR_MODEL, NOT_RUN_MODEL = "openai.types.shared.ErrorObject", "openai.types.BatchError"


def openai_result_lines(ledger: Ledger, step: Step, example: str) -> None:
    """``sdk_models`` for result files: every line of a downloaded output or error file (or Portkey's ``/output``)
    parses with the openai SDK's model of its batch's endpoint, its error with ``ErrorObject`` / ``BatchError``."""
    if not ledger.sdk or not step.ok():
        return
    memory = ledger.memory.setdefault("sdk_lines", {"files": {}, "batches": {}})
    bodies = step.body.get("data") if isinstance(step.body, dict) and step.operation_id == "listBatches" else [step.body]
    for batch in bodies if isinstance(bodies, list) else []:
        if isinstance(batch, dict) and isinstance(batch.get("endpoint"), str) and step.operation_id.endswith(("Batch", "Batches")):
            endpoint = batch["endpoint"] if batch["endpoint"].startswith("/") else "/v1/" + batch["endpoint"]
            memory["batches"][str(batch.get("id"))] = endpoint
            for role in ("output_file_id", "error_file_id"):
                if isinstance(batch.get(role), str):
                    memory["files"][batch[role]] = endpoint
    if step.operation_id == "downloadFile":
        endpoint = memory["files"].get(step.path_params.get("file_id", ""))
    elif step.operation_id == "getBatchOutput":
        endpoint = memory["batches"].get(step.path_params.get("batch_id", ""))
    else:
        return
    model = load_model(LINE_MODELS.get(endpoint or "", ""))
    errors, not_run = load_model(ERROR_MODEL), load_model(NOT_RUN_MODEL)
    if model is None or errors is None or not_run is None or not step.text:
        return  # not a result file of a known endpoint, or the SDK is not installed
    problems = []
    for n, raw in enumerate(step.text.splitlines(), start=1):
        try:
            line = json.loads(raw)
            response = line.get("response") or {}
            if line.get("error") is not None:
                not_run.model_validate(line["error"])
            elif response.get("status_code") == 200:
                model.model_validate(response.get("body"))
            else:
                errors.model_validate((response.get("body") or {}).get("error"))
        except Exception as exc:  # a line that is not JSON, not a result line, or not the SDK's shape
            first = str(exc).strip().splitlines()
            problems.append(f"line {n} of the {endpoint} results does not parse with the openai SDK's models: {' '.join(first[:3])[:300]}")
            break
    ledger.result(step, "sdk_models", problems, example)


def openai_results(ledger: Ledger, step: Step, example: str) -> None:
    """Output and error files of a finished batch hold every input line exactly once, as many as the counts say
    (and, through ``openai_result_lines``, each line parses with the openai SDK's models)."""
    openai_result_lines(ledger, step, example)
    memory = ledger.memory.setdefault("openai", {"inputs": {}, "batches": {}, "downloads": {}})
    if step.ok() and step.operation_id == "createFile" and step.files and isinstance(step.body, dict) and "id" in step.body:
        memory["inputs"][str(step.body["id"])] = jsonl_custom_ids(step.files["file"][1])
    elif step.ok() and step.operation_id == "createBatch" and isinstance(step.json_body, dict) and isinstance(step.body, dict):
        memory["batches"][str(step.body.get("id"))] = str(step.json_body.get("input_file_id"))
    elif step.ok() and step.operation_id == "downloadFile":
        memory["downloads"][step.path_params.get("file_id", "")] = step.text or (json.dumps(step.body) if step.body is not None else "")
    elif step.ok() and step.operation_id == "retrieveBatch" and isinstance(step.body, dict):
        memory.setdefault("read", {})[step.path_params.get("batch_id", "")] = step.body
    for batch_id, file_id in memory["batches"].items():
        batch = memory.get("read", {}).get(batch_id)  # the latest whole read (a cancel's answer may be partial)
        status = batch.get("status") if isinstance(batch, dict) else None
        if status not in ("completed", "failed", "cancelled", "expired"):
            continue
        snapshot = _Seen(status)
        check = "results_consistent" if status in ("completed", "failed") else "partial_results"
        counts = batch.get("request_counts") if isinstance(batch.get("request_counts"), dict) else {}
        done, failed = counts.get("completed"), counts.get("failed")
        output, errors = batch.get("output_file_id"), batch.get("error_file_id")
        if not isinstance(done, int) or not isinstance(failed, int):
            continue
        problems = []
        if done > 0 and not output:
            problems.append(f"batch {batch_id} is {snapshot.status!r} with request_counts.completed = {done} but has no output_file_id")
        if failed > 0 and not errors:
            problems.append(f"batch {batch_id} is {snapshot.status!r} with request_counts.failed = {failed} but has no error_file_id")
        if problems:
            key: tuple[Any, ...] = ("files", batch_id, snapshot.status, done, failed)
            if key not in ledger.done:
                ledger.done.add(key)
                ledger.result(step, check, problems, example, label=_label(ledger, "retrieveBatch"))
            continue
        downloads = memory["downloads"]
        if (output and output not in downloads) or (errors and errors not in downloads):
            continue  # not downloaded yet
        key = ("lines", batch_id, snapshot.status, done, failed, output, errors)
        if key in ledger.done:
            continue
        ledger.done.add(key)
        problems = []
        out_ids = jsonl_custom_ids(downloads[output]) if output else []
        err_ids = jsonl_custom_ids(downloads[errors]) if errors else []
        # lines that never ran (a cancel or the window's end came first) are in the error file, uncounted
        not_run = _not_run(downloads[errors]) if errors else 0
        if out_ids is None or err_ids is None:
            problems.append(f"a result file of batch {batch_id} has a line that is not a JSON object with a custom_id")
        else:
            if len(out_ids) != done:
                problems.append(f"batch {batch_id} ({snapshot.status}) counts {done} completed request(s) but its output file "
                                f"holds {len(out_ids)} line(s)")
            if len(err_ids) - not_run != failed:
                problems.append(f"batch {batch_id} ({snapshot.status}) counts {failed} failed request(s) but its error file "
                                f"holds {len(err_ids) - not_run} line(s) of requests that ran"
                                + (f" (and {not_run} that did not)" if not_run else ""))
            every = out_ids + err_ids
            repeated = sorted({i for i in every if every.count(i) > 1})
            if repeated:
                problems.append(f"the result files of batch {batch_id} hold custom_id {', '.join(repeated)} more than once")
            inputs = memory["inputs"].get(file_id)
            if inputs is not None:
                unknown = sorted(set(every) - set(inputs))
                if unknown:
                    problems.append(f"the result files of batch {batch_id} hold custom_id {', '.join(unknown)}, which is not in its input")
                if snapshot.status == "completed":
                    missing = [i for i in inputs if i not in every]
                    if missing:
                        problems.append(f"batch {batch_id} is completed but custom_id {', '.join(missing)} of its input is in "
                                        "neither its output nor its error file")
        ledger.result(step, check, problems, example, label=_label(ledger, "downloadFile"))


NOT_RUN = ("batch_cancelled", "batch_expired")


def _not_run(text: str) -> int:
    count = 0
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        error = item.get("error") if isinstance(item, dict) else None
        if isinstance(error, dict) and error.get("code") in NOT_RUN:
            count += 1
    return count


@dataclass
class _Seen:
    status: str


def retell_runs(ledger: Ledger, step: Step, example: str) -> None:
    """A complete batch test has one finished run per test case, and its counts are the runs' results."""
    if not step.ok() or step.operation_id != "listTestRuns" or not isinstance(step.body, dict):
        return
    batch_id = step.path_params.get("test_case_batch_job_id", "")
    snapshot = ledger.observer.seen.get(("batch_test", batch_id))
    items = step.body.get("items")
    if snapshot is None or snapshot.status != "complete" or not isinstance(items, list) or step.body.get("has_more"):
        return
    values = snapshot.values
    statuses = [item.get("status") for item in items if isinstance(item, dict)]
    problems = []
    total = values.get("total_count")
    if isinstance(total, int) and len(statuses) != total:
        problems.append(f"batch test {batch_id} is complete with total_count = {total} but lists {len(statuses)} run(s)")
    for result in ("pass", "fail", "error"):
        count = values.get(f"{result}_count")
        if isinstance(count, int) and statuses.count(result) != count:
            problems.append(f"batch test {batch_id} counts {result}_count = {count} but {statuses.count(result)} run(s) are {result!r}")
    unfinished = [s for s in statuses if s not in ("pass", "fail", "error")]
    if unfinished:
        problems.append(f"batch test {batch_id} is complete but {len(unfinished)} of its runs are still {', '.join(map(repr, set(unfinished)))}")
    ledger.result(step, "results_consistent", problems, example)


def formant_metrics(ledger: Ledger, step: Step, example: str) -> None:
    """The metrics of a completed batch call account for every recipient, with nothing still running."""
    if not step.ok() or step.operation_id != "get-batch-call-metrics" or not isinstance(step.body, dict):
        return
    batch_id = step.path_params.get("batch_id", "")
    snapshot = ledger.observer.seen.get(("batch_call", batch_id))
    metrics = step.body.get("data")
    if snapshot is None or snapshot.status != "completed" or not isinstance(metrics, dict):
        return
    problems = []
    recipients = snapshot.values.get("total_recipients")
    processed = metrics.get("total_processed")
    if isinstance(recipients, int) and isinstance(processed, int) and processed != recipients:
        problems.append(f"batch call {batch_id} is completed with total_recipients = {recipients} but its metrics count "
                        f"total_processed = {processed}")
    for name in ("in_progress_count", "pending_retry_count"):
        if isinstance(metrics.get(name), int) and metrics[name] > 0:
            problems.append(f"batch call {batch_id} is completed but its metrics count {name} = {metrics[name]}")
    ledger.result(step, "results_consistent", problems, example)


def _label(ledger: Ledger, operation_id: str) -> str:
    schema = ledger.memory.get("_labels", {})
    return str(schema.get(operation_id, operation_id))


Hook = Callable[[Ledger, Step, str], None]
