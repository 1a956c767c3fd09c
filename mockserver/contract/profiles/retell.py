"""Retell AI batch tests: test-case definitions, batch test jobs and their runs (timestamps in ms, no cancel)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ..invariants import retell_runs
from . import Created, Lifecycle, Pagination, Profile, Resource, View, bearer

if TYPE_CHECKING:
    from ..api import Api

BATCH_LIFECYCLE = Lifecycle(
    initial=frozenset({"in_progress"}),
    edges=frozenset({("in_progress", "complete")}),
    terminal=frozenset({"complete"}),
)
# a run is queued, then worked on, then has one result (SDK TestCaseJobResponse.status)
RUN_LIFECYCLE = Lifecycle(
    initial=frozenset({"pending"}),
    edges=frozenset({("pending", "in_progress"), *(("in_progress", r) for r in ("pass", "fail", "error")), ("pending", "error")}),
    terminal=frozenset({"pass", "fail", "error"}),
)

# a call of a batch call (SDK call_status); "queued" tasks are not calls yet and are never observed
CALL_LIFECYCLE = Lifecycle(
    initial=frozenset({"registered"}),
    edges=frozenset({("registered", "ongoing"), ("ongoing", "ended"), ("registered", "not_connected"), ("registered", "error")}),
    terminal=frozenset({"ended", "not_connected", "error"}),
)


def batch_counts(batch: dict[str, Any]) -> list[str]:
    """pass + fail + error never exceed total, and add up to it once the batch is complete."""
    names = ("pass_count", "fail_count", "error_count", "total_count")
    values = [batch.get(n) for n in names]
    if not all(isinstance(v, int) for v in values):
        return []
    passed, failed, errored, total = cast("list[int]", values)
    done = passed + failed + errored
    problems = []
    if done > total:
        problems.append(f"pass + fail + error = {done} exceeds total_count = {total}")
    if batch.get("status") == "complete" and done != total:
        problems.append(f"the batch is complete but pass + fail + error = {done} != total_count = {total}")
    return problems


def _engine(context: dict[str, Any]) -> dict[str, Any]:
    return {"type": "retell-llm", "llm_id": context["llm_id"]}


def list_query(context: dict[str, Any]) -> dict[str, Any]:
    return {"type": "retell-llm", "llm_id": context["llm_id"]}


def create_batch_test(api: Api) -> Created:
    """A one-case definition, then a batch test of it; the definition is deleted afterwards (runs cannot be cancelled)."""
    from ._openai import _refused

    definition = api.call("createTestCaseDefinition", json_body={
        "name": "mockserver contract", "response_engine": _engine(api.context),
        "user_prompt": "You are a caller who wants to know the opening hours. Ask once, then say goodbye.",
        "metrics": ["The agent states the opening hours"],
    })
    if not definition.ok() or not isinstance(definition.body, dict) or "test_case_definition_id" not in definition.body:
        _refused(api, definition)
    definition_id = str(definition.body["test_case_definition_id"])
    api.on_cleanup(f"test case definition {definition_id} (delete)", lambda: _delete(api, definition_id), cost=1)
    batch = api.call("createBatchTest", json_body={"response_engine": _engine(api.context), "test_case_definition_ids": [definition_id]})
    if not batch.ok() or not isinstance(batch.body, dict) or "test_case_batch_job_id" not in batch.body:
        _refused(api, batch)
    batch_id = str(batch.body["test_case_batch_job_id"])
    api.report.created.append(f"batch test {batch_id} (Retell has no cancel or delete; it runs to completion)")
    return Created("batch_test", batch_id)


def _delete(api: Api, definition_id: str) -> None:
    exchange = api.call("deleteTestCaseDefinition", path={"test_case_definition_id": definition_id}, cleanup=True)
    if not exchange.ok() and exchange.status != 404:  # 404: already gone (the fuzzing phase may delete it)
        raise RuntimeError(f"delete answered {exchange.status}")


def poll_runs(api: Api, created: Created) -> None:
    api.call("listTestRuns", path={"test_case_batch_job_id": created.id})


PROFILE = Profile(
    name="retell",
    spec="retell",
    key_env=("RETELL_API_KEY",),
    auth=bearer,
    resources=(
        Resource(
            name="batch_test",
            id_field="test_case_batch_job_id",
            views=(View("createBatchTest", creates=True), View("getBatchTest"), View("listBatchTests", many=True, items="items")),
            retrieve=("getBatchTest", "test_case_batch_job_id"),
            lifecycle=BATCH_LIFECYCLE,
            stable=("test_case_batch_job_id", "creation_timestamp", "total_count"),
            monotonic=("pass_count", "fail_count", "error_count", "user_modified_timestamp"),
            consistency=batch_counts,
            time_unit="ms",
            time_fields=("creation_timestamp",),
        ),
        Resource(
            name="test_run",
            id_field="test_case_job_id",
            views=(View("getTestRun"), View("listTestRuns", many=True, items="items")),
            retrieve=("getTestRun", "test_case_job_id"),
            lifecycle=RUN_LIFECYCLE,
            stable=("test_case_job_id", "test_case_definition_id", "creation_timestamp"),
            monotonic=("user_modified_timestamp",),
        ),
        Resource(
            name="call",
            id_field="call_id",
            views=(View("getCall"), View("listCalls", many=True, items="items")),
            retrieve=("getCall", "call_id"),
            status="call_status",
            lifecycle=CALL_LIFECYCLE,
            stable=("call_id", "batch_call_id", "from_number", "to_number", "start_timestamp"),
        ),
        Resource(
            name="test_case_definition",
            id_field="test_case_definition_id",
            views=(View("createTestCaseDefinition", creates=True), View("getTestCaseDefinition"), View("updateTestCaseDefinition"),
                   View("listTestCaseDefinitions", many=True, items="items")),
            retrieve=("getTestCaseDefinition", "test_case_definition_id"),
            status=None,
            stable=("test_case_definition_id", "type", "creation_timestamp"),
            monotonic=("user_modified_timestamp",),
            time_unit="ms",
            time_fields=("creation_timestamp",),
            delete="deleteTestCaseDefinition",
            undo="deleteTestCaseDefinition",
        ),
    ),
    pagination=(
        Pagination("listBatchTests", style="key", items="items", max_limit=1000, cursor_param="pagination_key",
                   next_key="pagination_key", query=list_query),
        Pagination("listTestCaseDefinitions", style="key", items="items", max_limit=1000, cursor_param="pagination_key",
                   next_key="pagination_key", query=list_query),
    ),
    create=create_batch_test,
    poll_related=poll_runs,
    # "llm_id is required when type is retell-llm" is prose only: valid list requests name the run's LLM
    query_samples={"listBatchTests": list_query, "listTestCaseDefinitions": list_query},
    # the LLM the batch tests run against; the fake accepts any id
    context_env={"llm_id": ("RETELL_LLM_ID", "llm_mockserver_contract")},
    write_warning=(
        "creates a test-case definition and a one-case batch test per flow; batch tests cannot be cancelled; "
        "the fuzzing phase also sends invalid create-batch-call bodies, which a real account would turn into phone calls if it accepted one"
    ),
    invariants=(retell_runs,),
    # an unknown call id: Retell documents 422 "Cannot find requested asset under given api key."
    unknown_id_statuses={"getCall": (422,)},
    sdk_models={
        "createBatchTest": ("retell.types.BatchTestResponse", ""), "getBatchTest": ("retell.types.BatchTestResponse", ""),
        "listBatchTests": ("retell.types.BatchTestResponse", "items[]"), "getTestRun": ("retell.types.TestCaseJobResponse", ""),
        "listTestRuns": ("retell.types.TestCaseJobResponse", "items[]"),
        "createTestCaseDefinition": ("retell.types.TestCaseDefinitionResponse", ""),
        "getTestCaseDefinition": ("retell.types.TestCaseDefinitionResponse", ""),
    },
    refusals={
        "createBatchTest": ((422,), "unknown test_case_definition_ids: Retell's 422 'Cannot find requested asset under given api key.'"),
        "createBatchCall": ((400,), "numbers not in E.164, an empty task list, call_time_window rules (start < end, 0..1440, IANA timezone), reserved_concurrency >= the concurrency limit"),
        "listCalls": ((400,), "a filter_criteria key the fake does not evaluate (README: Retell AI batch calls)"),
        "getCall": ((422,), "a call id the target never issued: Retell's 422 'Cannot find requested asset under given api key.'"),
    },
)
