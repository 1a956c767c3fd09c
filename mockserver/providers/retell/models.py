"""Test-case definitions, batch tests and test runs of one namespace, and the verbs the spec's operations call.

No HTTP here. Times are simulated seconds (floats); the handlers render them as Retell's milliseconds.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...core.engine import Engine
from ...core.errors import NotFound, Unprocessable
from ...core.lifecycle import record
from ...core.outcomes import fraction, share
from ...core.pages import cursor_page
from .batch_calls import BatchCall, BatchCalls, PhoneCall
from .lifecycle import BATCH_TEST_LIFECYCLE, RUN_LIFECYCLE, RUN_RESULTS
from .scenarios import DEFAULT_MIX, OUTCOMES, CallPlan, Plan, call_plan_for

# How many runs of one batch are simulated at once. Retell documents no number for test runs (its
# concurrency limit of 20 is for calls); runs start in waves of this size, one wave per Durations.test_run.
CONCURRENCY = 20
DEFAULT_LLM_MODEL = "gpt-4.1"  # the first value of the SDK's llm_model enum; Retell documents no default
DEFINITION_FIELDS = ("name", "response_engine", "user_prompt", "metrics", "dynamic_variables", "tool_mocks", "llm_model")
ASSET_MISSING = "Cannot find requested asset under given api key."


@dataclass
class Definition:
    """A TestCaseDefinition (type ``simulation``)."""

    id: str
    name: str
    response_engine: dict[str, Any]
    user_prompt: str
    metrics: list[str]
    dynamic_variables: dict[str, str]
    tool_mocks: list[dict[str, Any]]
    llm_model: str
    created: float
    modified: float
    seq: int
    size: int = field(default=0, compare=False, repr=False)  # bytes it stands for, for the storage quota


def _measure(definition: Definition) -> Definition:
    parts = [getattr(definition, name) for name in DEFINITION_FIELDS]
    definition.size = len(json.dumps(parts, ensure_ascii=False, default=str))
    return definition


@dataclass
class Run:
    """A TestCaseJob: one definition (snapshotted when the batch was created) run once."""

    id: str
    batch_id: str
    index: int
    definition: Definition
    outcome: str
    starts_at: float | None
    ends_at: float | None
    seq: int
    state: str = "pending"
    entered_at: float = 0.0
    moments: dict[str, float] = field(default_factory=dict)

    @property
    def created(self) -> float:
        return self.moments["pending"]

    def explanation(self, seed: int) -> str | None:
        """Retell's result_explanation: why a finished run passed, failed or errored (None before that)."""
        metrics = self.definition.metrics
        if self.state == "pass":
            return f"All {len(metrics)} metrics were met." if metrics else "The simulated conversation went as expected."
        if self.state == "fail":
            if not metrics:
                return "The simulated conversation did not go as expected."
            missed = metrics[int(fraction(seed, self.batch_id, self.index, "metric") * len(metrics))]
            return f"Metric not met: {missed}"
        if self.state == "error":
            return "The simulation could not be completed: the response engine did not respond in time."
        return None


@dataclass
class BatchTest:
    """A TestCaseBatchJob."""

    id: str
    response_engine: dict[str, Any]
    runs: list[Run]
    seq: int
    scenario: str
    completes_at: float | None
    state: str = "in_progress"
    entered_at: float = 0.0
    moments: dict[str, float] = field(default_factory=dict)

    @property
    def created(self) -> float:
        return self.moments["in_progress"]

    @property
    def modified(self) -> float:
        """The last moment the batch or any of its runs changed (runs must be advanced first)."""
        return max([*self.moments.values(), *(run.entered_at for run in self.runs)])

    def counts(self) -> dict[str, int]:
        counts = {f"{outcome}_count": 0 for outcome in OUTCOMES}
        for run in self.runs:
            if run.state in RUN_RESULTS:
                counts[f"{run.state}_count"] += 1
        return counts


def _engine_matches(engine: dict[str, Any], kind: str, engine_id: str | None, version: float | None) -> bool:
    if engine.get("type") != kind:
        return False
    key = "llm_id" if kind == "retell-llm" else "conversation_flow_id"
    if engine_id is not None and engine.get(key) != engine_id:
        return False
    return version is None or engine.get("version") == version


class RetellBackend:
    """One namespace (API key) of Retell batch tests. Verbs are named after the spec's operationIds."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.definitions: dict[str, Definition] = {}
        self.batches: dict[str, BatchTest] = {}
        self.runs: dict[str, Run] = {}
        self._seq = 0
        self._seq_of: dict[str, int] = {}  # every id ever issued, so a pagination key survives a delete
        self.batch_calls = BatchCalls(engine)

    # -- helpers -----------------------------------------------------------------------------------

    def _now(self) -> float:
        return self.engine.now()

    def _new_id(self) -> str:
        return self._register(self.engine.ids.hex("", 32))

    def _register(self, new_id: str) -> str:
        self._seq += 1
        self._seq_of[new_id] = self._seq
        return new_id

    def _definition(self, definition_id: str) -> Definition:
        definition = self.definitions.get(definition_id)
        if definition is None:
            raise NotFound(f"Test case definition {definition_id} not found.", param="test_case_definition_id")
        return definition

    def _batch(self, batch_id: str) -> BatchTest:
        batch = self.batches.get(batch_id)
        if batch is None:
            raise NotFound(f"Batch test job {batch_id} not found.", param="test_case_batch_job_id")
        self._advance(batch, self._now())
        return batch

    def _advance(self, batch: BatchTest, now: float) -> None:
        for run in batch.runs:
            RUN_LIFECYCLE.advance(run, now, record)
        BATCH_TEST_LIFECYCLE.advance(batch, now, record)

    def _page(self, items: list[Any], key: str | None, limit: int, newest_first: bool) -> tuple[list[Any], bool]:
        """A page after the item ``key`` names (items are sorted by ``seq`` in the given direction). The key may
        name an item this list leaves out (another engine's, a deleted one): the page starts where it would be;
        an unknown key gives an empty last page, as the OpenAI family's unknown ``after``."""

        def start_of(key: str) -> int | None:
            mark = self._seq_of.get(key)
            if mark is None:
                return None
            return next((index for index, item in enumerate(items) if (item.seq < mark if newest_first else item.seq > mark)), len(items))

        return cursor_page(items, limit, key, start_of=start_of)

    # -- test case definitions ---------------------------------------------------------------------

    def create_test_case_definition(
        self,
        name: str,
        response_engine: dict[str, Any],
        user_prompt: str,
        metrics: list[str],
        dynamic_variables: dict[str, str] | None = None,
        tool_mocks: list[dict[str, Any]] | None = None,
        llm_model: str | None = None,
        created: float | None = None,
        modified: float | None = None,
        definition_id: str | None = None,
    ) -> Definition:
        now = self._now() if created is None else created
        new_id = self._new_id() if definition_id is None else self._register(definition_id)
        definition = Definition(
            id=new_id,
            name=name,
            response_engine=copy.deepcopy(response_engine),
            user_prompt=user_prompt,
            metrics=list(metrics),
            dynamic_variables=dict(dynamic_variables or {}),
            tool_mocks=copy.deepcopy(list(tool_mocks or [])),
            llm_model=llm_model or DEFAULT_LLM_MODEL,
            created=now,
            modified=now if modified is None else modified,
            seq=self._seq_of[new_id],
        )
        self.definitions[definition.id] = _measure(definition)
        return definition

    def get_test_case_definition(self, definition_id: str) -> Definition:
        return self._definition(definition_id)

    def list_test_case_definitions(
        self, kind: str, engine_id: str | None, limit: int = 50, pagination_key: str | None = None
    ) -> tuple[list[Definition], bool]:
        items = sorted(self.definitions.values(), key=lambda d: d.seq, reverse=True)
        items = [d for d in items if _engine_matches(d.response_engine, kind, engine_id, None)]
        return self._page(items, pagination_key, limit, newest_first=True)

    def update_test_case_definition(self, definition_id: str, changes: dict[str, Any]) -> Definition:
        """Partial update: fields absent from ``changes`` are kept; ``modified`` moves to now."""
        definition = self._definition(definition_id)
        for name in DEFINITION_FIELDS:
            if name in changes and changes[name] is not None:
                setattr(definition, name, copy.deepcopy(changes[name]))
        _measure(definition)
        definition.modified = max(self._now(), definition.modified)
        return definition

    def delete_test_case_definition(self, definition_id: str) -> None:
        self._definition(definition_id)
        del self.definitions[definition_id]

    # -- batch tests -------------------------------------------------------------------------------

    def create_batch_test(self, response_engine: dict[str, Any], test_case_definition_ids: list[str], plan: Plan) -> BatchTest:
        missing = [i for i in test_case_definition_ids if i not in self.definitions]
        if missing:
            unknown = ", ".join(missing)
            raise Unprocessable(f"{ASSET_MISSING} Unknown test_case_definition_ids: {unknown}.", param="test_case_definition_ids")
        now = self._now()
        batch_id = self._new_id()
        seed = self.engine.settings.seed
        step = self.engine.settings.durations.test_run if plan.test_run is None else plan.test_run
        runs = []
        # one snapshot per distinct definition, shared by its runs: 1000 runs of one big definition are one copy
        snapshots: dict[str, Definition] = {}
        for index, definition_id in enumerate(test_case_definition_ids):
            if definition_id not in snapshots:
                snapshots[definition_id] = copy.deepcopy(self.definitions[definition_id])
            wave_start = now + share(step, index // CONCURRENCY)
            # inside its wave's slot: queued 5-25% of a slot, running 40-75% of one
            starts_at = wave_start + share(step, 0.05 + 0.2 * fraction(seed, batch_id, index, "start"))
            ends_at = starts_at + share(step, 0.4 + 0.35 * fraction(seed, batch_id, index, "length"))
            run = Run(
                id=self._new_id(),
                batch_id=batch_id,
                index=index,
                definition=snapshots[definition_id],
                outcome=plan.pick(fraction(seed, batch_id, index)),
                starts_at=starts_at,
                ends_at=ends_at,
                seq=0,
            )
            run.seq = self._seq_of[run.id]
            record(run, "pending", now)
            runs.append(run)
        batch = BatchTest(
            id=batch_id,
            response_engine=copy.deepcopy(response_engine),
            runs=runs,
            seq=self._seq_of[batch_id],
            scenario=plan.scenario,
            completes_at=max(run.ends_at for run in runs if run.ends_at is not None),
        )
        record(batch, "in_progress", now)
        self._store(batch)
        self._advance(batch, now)
        return batch

    def stored_bytes(self) -> int:
        """What this namespace keeps, for the storage quota: its definitions and the snapshots its runs hold."""
        snapshots = {id(run.definition): run.definition.size for run in self.runs.values()}
        return sum(d.size for d in self.definitions.values()) + sum(snapshots.values()) + 256 * len(self.runs)

    def _store(self, batch: BatchTest) -> None:
        self.batches[batch.id] = batch
        for run in batch.runs:
            self.runs[run.id] = run

    def get_batch_test(self, batch_id: str) -> BatchTest:
        return self._batch(batch_id)

    def list_batch_tests(
        self, kind: str, engine_id: str | None, version: float | None = None, limit: int = 50, pagination_key: str | None = None
    ) -> tuple[list[BatchTest], bool]:
        items = sorted(self.batches.values(), key=lambda b: b.seq, reverse=True)
        items = [b for b in items if _engine_matches(b.response_engine, kind, engine_id, version)]
        page, has_more = self._page(items, pagination_key, limit, newest_first=True)
        now = self._now()
        for batch in page:
            self._advance(batch, now)
        return page, has_more

    def list_test_runs(self, batch_id: str, limit: int = 50, pagination_key: str | None = None) -> tuple[list[Run], bool]:
        batch = self._batch(batch_id)
        return self._page(list(batch.runs), pagination_key, limit, newest_first=False)

    def get_test_run(self, run_id: str) -> Run:
        run = self.runs.get(run_id)
        if run is None:
            raise NotFound(f"Test case job {run_id} not found.", param="test_case_job_id")
        self._advance(self.batches[run.batch_id], self._now())
        return run

    # -- batch calls (state and verbs in batch_calls.py) -------------------------------------------

    def create_batch_call(self, from_number: str, tasks: list[dict[str, Any]], plan: CallPlan, **options: Any) -> BatchCall:
        return self.batch_calls.create_batch_call(from_number, tasks, plan, **options)

    def list_calls(self, filter_criteria: dict[str, Any] | None, **options: Any) -> tuple[list[PhoneCall], bool, int]:
        return self.batch_calls.list_calls(filter_criteria, **options)

    def get_call(self, call_id: str) -> PhoneCall:
        return self.batch_calls.get_call(call_id)

    # -- admin and fixtures ------------------------------------------------------------------------

    def all_batches(self) -> list[BatchTest | BatchCall]:
        now = self._now()
        for batch in self.batches.values():
            self._advance(batch, now)
        return [*self.batches.values(), *self.batch_calls.all_batch_calls()]

    def describe(self, batch: BatchTest | BatchCall) -> dict[str, Any]:
        if isinstance(batch, BatchCall):
            return self.batch_calls.describe(batch)
        return {"id": batch.id, "status": batch.state, "created": int(batch.created), "total": len(batch.runs), **batch.counts()}

    def load_fixture(self, kind: str, data: dict[str, Any]) -> None:
        """Preload state: ``test_case_definition`` (an API body, optionally with its id and ms timestamps),
        ``batch_test`` (a TestCaseBatchJob with an explicit status and counts, optionally its runs' ids; it never
        moves), ``test_run`` (one run under a given ``test_case_job_id``, in a one-run batch test),
        ``batch_call`` (a create-batch-call body; its calls run on the clock from its creation_timestamp) or
        ``call`` (one call under a given ``call_id``, made by a one-task batch call)."""
        if kind == "test_case_definition":
            self._load_definition(data)
        elif kind == "batch_test":
            self._load_batch_test(data)
        elif kind == "test_run":
            self._load_batch_test(_one_run_batch(data))
        elif kind in ("batch_call", "call"):
            plan = call_plan_for(self.engine.scenarios.default, self.engine.scenarios, explicit=False)
            self.batch_calls.load_fixture(data if kind == "batch_call" else _one_call_batch(data), plan, self._now())
        else:
            raise ValueError(f"retell fixtures: unknown kind {kind!r} (expected test_case_definition, batch_test, test_run, batch_call or call)")

    def _load_definition(self, data: dict[str, Any]) -> None:
        _require(data, ("name", "response_engine", "user_prompt", "metrics"), "test_case_definition")
        created = _seconds(data.get("creation_timestamp"), self._now())
        self.create_test_case_definition(
            **{k: data[k] for k in DEFINITION_FIELDS if k in data},
            created=created,
            modified=_seconds(data.get("user_modified_timestamp"), created),
            definition_id=data.get("test_case_definition_id"),
        )

    def _load_batch_test(self, data: dict[str, Any]) -> None:
        _require(data, ("response_engine", "status", "total_count"), "batch_test")
        status = data["status"]
        if status not in ("in_progress", "complete"):
            raise ValueError(f"retell fixture batch_test: status must be in_progress or complete, got {status!r}")
        total = int(data["total_count"])
        counts = {outcome: int(data.get(f"{outcome}_count", 0)) for outcome in OUTCOMES}
        finished = sum(counts.values())
        if finished > total or (status == "complete" and finished != total) or min(counts.values()) < 0:
            raise ValueError(
                f"retell fixture batch_test: pass/fail/error counts {counts} do not fit total_count {total} with status {status!r}"
            )
        created = _seconds(data.get("creation_timestamp"), self._now())
        modified = _seconds(data.get("user_modified_timestamp"), created)
        batch_id = self._register(data["test_case_batch_job_id"]) if data.get("test_case_batch_job_id") else self._new_id()
        ids = list(data.get("test_case_definition_ids") or [])
        run_ids = list(data.get("test_case_job_ids") or [])
        if len(run_ids) > total or any(not isinstance(i, str) or not i or i in self.runs or run_ids.count(i) > 1 for i in run_ids):
            raise ValueError("retell fixture batch_test: test_case_job_ids must be new, distinct, non-empty strings, at most total_count")
        outcomes = [o for o in OUTCOMES for _ in range(counts[o])] + ["pass"] * (total - finished)
        runs = []
        for index, outcome in enumerate(outcomes):
            definition = self._fixture_snapshot(ids[index] if index < len(ids) else None, data["response_engine"], index, created)
            run_id = self._register(run_ids[index]) if index < len(run_ids) else self._new_id()
            run = Run(run_id, batch_id, index, definition, outcome, None, None, seq=0)
            run.seq = self._seq_of[run.id]
            record(run, "pending", created)
            record(run, outcome if index < finished else "in_progress", modified)
            runs.append(run)
        batch = BatchTest(batch_id, copy.deepcopy(data["response_engine"]), runs, self._seq_of[batch_id], "fixture", None)
        record(batch, "in_progress", created)
        if status == "complete":
            record(batch, "complete", modified)
        else:
            batch.moments["fixture"] = modified  # keeps user_modified_timestamp as given
        self._store(batch)

    def _fixture_snapshot(self, definition_id: str | None, engine: dict[str, Any], index: int, created: float) -> Definition:
        if definition_id in self.definitions:
            return copy.deepcopy(self.definitions[definition_id])
        if engine.get("type") not in ("retell-llm", "conversation-flow"):
            engine = {"type": "retell-llm", "llm_id": "llm_fixture"}  # definitions cannot use custom-llm
        return Definition(
            id=definition_id or f"fixture_definition_{index + 1}",
            name=f"Fixture test case {index + 1}",
            response_engine=copy.deepcopy(engine),
            user_prompt="Loaded from a fixture.",
            metrics=[],
            dynamic_variables={},
            tool_mocks=[],
            llm_model=DEFAULT_LLM_MODEL,
            created=created,
            modified=created,
            seq=0,
        )


def _require(data: dict[str, Any], keys: Iterable[str], kind: str) -> None:
    missing = [k for k in keys if k not in data]
    if missing:
        raise ValueError(f"retell fixture {kind}: missing {', '.join(missing)}")


def _seconds(milliseconds: Any, default: float) -> float:
    return default if milliseconds is None else float(milliseconds) / 1000.0


__all__ = ["DEFAULT_MIX", "BatchTest", "Definition", "RetellBackend", "Run"]


RUN_STATUSES = ("pass", "fail", "error", "in_progress")


def _one_run_batch(data: dict[str, Any]) -> dict[str, Any]:
    """A ``test_run`` fixture (``test_case_job_id``, ``response_engine``, ``status`` pass | fail | error |
    in_progress, optional ``test_case_definition_id``, ``test_case_batch_job_id`` and ms timestamps) as the
    one-run ``batch_test`` fixture that holds it."""
    _require(data, ("test_case_job_id", "response_engine"), "test_run")
    status = data.get("status", "pass")
    if status not in RUN_STATUSES:
        raise ValueError(f"retell fixture test_run: status must be one of {', '.join(RUN_STATUSES)}, got {status!r}")
    batch: dict[str, Any] = {key: data[key] for key in ("response_engine", "creation_timestamp", "user_modified_timestamp", "test_case_batch_job_id") if key in data}
    batch.update(total_count=1, test_case_job_ids=[data["test_case_job_id"]], status="in_progress" if status == "in_progress" else "complete")
    if status != "in_progress":
        batch[f"{status}_count"] = 1
    if data.get("test_case_definition_id"):
        batch["test_case_definition_ids"] = [data["test_case_definition_id"]]
    return batch


def _one_call_batch(data: dict[str, Any]) -> dict[str, Any]:
    """A ``call`` fixture (``call_id``, ``from_number``, the task's fields such as ``to_number`` and ``metadata``,
    optional ``batch_call_id`` and ms ``creation_timestamp``) as the one-task ``batch_call`` fixture that makes it."""
    _require(data, ("call_id", "from_number", "to_number"), "call")
    batch_keys = ("from_number", "batch_call_id", "creation_timestamp", "name")
    task = {key: value for key, value in data.items() if key not in batch_keys}
    return {**{key: data[key] for key in batch_keys if key in data}, "tasks": [task]}
