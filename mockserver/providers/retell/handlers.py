"""HTTP for Retell batch tests: parse, call one backend verb, serialise (timestamps in milliseconds)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.responses import Response

from ...core.errors import InvalidRequest
from ...core.pages import keyed_list
from ..base import Call, Handler, json_response
from .batch_calls import BatchCall, PhoneCall
from .models import BatchTest, Definition, RetellBackend, Run
from .scenarios import call_plan_for, plan_for

ENGINE_ID_PARAM = {"retell-llm": "llm_id", "conversation-flow": "conversation_flow_id"}


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def definition_json(definition: Definition) -> dict[str, Any]:
    return {
        "test_case_definition_id": definition.id,
        "type": "simulation",
        "name": definition.name,
        "response_engine": definition.response_engine,
        "user_prompt": definition.user_prompt,
        "metrics": definition.metrics,
        "dynamic_variables": definition.dynamic_variables,
        "tool_mocks": definition.tool_mocks,
        "llm_model": definition.llm_model,
        "creation_timestamp": ms(definition.created),
        "user_modified_timestamp": ms(definition.modified),
    }


def batch_json(batch: BatchTest) -> dict[str, Any]:
    return {
        "test_case_batch_job_id": batch.id,
        "status": batch.state,
        "response_engine": batch.response_engine,
        **batch.counts(),
        "total_count": len(batch.runs),
        "creation_timestamp": ms(batch.created),
        "user_modified_timestamp": ms(batch.modified),
    }


def run_json(run: Run, seed: int) -> dict[str, Any]:
    return {
        "test_case_job_id": run.id,
        "status": run.state,
        "test_case_definition_id": run.definition.id,
        "test_case_definition_snapshot": definition_json(run.definition),
        "transcript_snapshot": None,
        "result_explanation": run.explanation(seed),
        "creation_timestamp": ms(run.created),
        "user_modified_timestamp": ms(run.entered_at),
    }


def page_json(items: list[dict[str, Any]], objects: Sequence[Any], has_more: bool) -> dict[str, Any]:
    """A page of ``objects`` serialised as ``items``; its ``pagination_key`` is the last object's id."""
    return keyed_list(items, objects[-1].id if objects else None, has_more)


def engine_filter(call: Call) -> tuple[str, str | None]:
    """The response-engine filter: ``type``, and the id that matches it when given (Retell's spec and the
    SDK's signatures make ``llm_id`` / ``conversation_flow_id`` optional; without one, every engine of that type)."""
    kind = call.query("type")
    return kind, call.query(ENGINE_ID_PARAM[kind]) or None


def batch_call_json(batch: BatchCall) -> dict[str, Any]:
    data: dict[str, Any] = {
        "batch_call_id": batch.id,
        "name": batch.name,
        "from_number": batch.from_number,
        "scheduled_timestamp": ms(batch.scheduled),
        "total_task_count": len(batch.calls),
    }
    if batch.call_time_window is not None:
        data["call_time_window"] = batch.call_time_window
    return data


def phone_call_json(phone: PhoneCall) -> dict[str, Any]:
    """A V3PhoneCallResponse (SDK types/call_list_response.py), plus ``batch_call_id`` (our addition)."""
    task = phone.task
    data: dict[str, Any] = {
        "call_id": phone.id,
        "call_type": "phone_call",
        "direction": "outbound",
        "call_status": phone.state,
        "agent_id": phone.agent_id,
        "agent_version": phone.agent_version,
        "from_number": phone.from_number,
        "to_number": task["to_number"],
        "batch_call_id": phone.batch_id,
    }
    if isinstance(task.get("override_agent_version"), str):
        data["agent_tag"] = task["override_agent_version"]
    for key in ("metadata", "retell_llm_dynamic_variables", "custom_sip_headers"):
        if task.get(key) is not None:
            data[key] = task[key]
    start = phone.moments.get("registered")
    if start is not None:
        data["start_timestamp"] = ms(start)
    end = next((phone.moments[s] for s in ("ended", "not_connected", "error") if s in phone.moments), None)
    if end is not None and start is not None:
        data["end_timestamp"] = ms(end)
        data["duration_ms"] = ms(end) - ms(start)
        data["disconnection_reason"] = phone.reason
    return data


async def create_batch_call(call: Call) -> Response:
    body = call.body
    batch = call.backend.create_batch_call(
        body["from_number"],
        body["tasks"],
        call.plan(call_plan_for),
        name=body.get("name"),
        trigger_timestamp=body.get("trigger_timestamp"),
        reserved_concurrency=body.get("reserved_concurrency"),
        call_time_window=body.get("call_time_window"),
    )
    return json_response(batch_call_json(batch), status=201)


async def list_calls(call: Call) -> Response:
    body = call.body or {}
    if body.get("skip") is not None and body.get("pagination_key") is not None:
        raise InvalidRequest("Use either skip or pagination_key, not both.", param="skip")
    calls, has_more, total = call.backend.list_calls(
        body.get("filter_criteria"),
        render=phone_call_json,
        sort_order=body.get("sort_order", "descending"),
        limit=body.get("limit", 50),
        skip=body.get("skip") or 0,
        pagination_key=body.get("pagination_key"),
    )
    data = page_json([phone_call_json(c) for c in calls], calls, has_more)
    if body.get("include_total"):
        data["total"] = total
    return json_response(data)


async def get_call(call: Call) -> Response:
    return json_response(phone_call_json(call.backend.get_call(call.path_params["call_id"])))


async def create_batch_test(call: Call) -> Response:
    backend: RetellBackend = call.backend
    batch = backend.create_batch_test(call.body["response_engine"], call.body["test_case_definition_ids"], call.plan(plan_for))
    return json_response(batch_json(batch), status=201)


async def get_batch_test(call: Call) -> Response:
    return json_response(batch_json(call.backend.get_batch_test(call.path_params["test_case_batch_job_id"])))


async def list_batch_tests(call: Call) -> Response:
    kind, engine_id = engine_filter(call)
    batches, has_more = call.backend.list_batch_tests(
        kind, engine_id, version=call.query("version"), limit=call.query("limit", 50), pagination_key=call.query("pagination_key")
    )
    return json_response(page_json([batch_json(b) for b in batches], batches, has_more))


async def list_test_runs(call: Call) -> Response:
    runs, has_more = call.backend.list_test_runs(
        call.path_params["test_case_batch_job_id"], limit=call.query("limit", 50), pagination_key=call.query("pagination_key")
    )
    seed = call.engine.settings.seed
    return json_response(page_json([run_json(r, seed) for r in runs], runs, has_more))


async def get_test_run(call: Call) -> Response:
    return json_response(run_json(call.backend.get_test_run(call.path_params["test_case_job_id"]), call.engine.settings.seed))


async def create_test_case_definition(call: Call) -> Response:
    body = call.body
    definition = call.backend.create_test_case_definition(
        name=body["name"],
        response_engine=body["response_engine"],
        user_prompt=body["user_prompt"],
        metrics=body["metrics"],
        dynamic_variables=body.get("dynamic_variables"),
        tool_mocks=body.get("tool_mocks"),
        llm_model=body.get("llm_model"),
    )
    return json_response(definition_json(definition), status=201)


async def get_test_case_definition(call: Call) -> Response:
    return json_response(definition_json(call.backend.get_test_case_definition(call.path_params["test_case_definition_id"])))


async def list_test_case_definitions(call: Call) -> Response:
    kind, engine_id = engine_filter(call)
    definitions, has_more = call.backend.list_test_case_definitions(
        kind, engine_id, limit=call.query("limit", 50), pagination_key=call.query("pagination_key")
    )
    return json_response(page_json([definition_json(d) for d in definitions], definitions, has_more))


async def update_test_case_definition(call: Call) -> Response:
    definition = call.backend.update_test_case_definition(call.path_params["test_case_definition_id"], call.body or {})
    return json_response(definition_json(definition))


async def delete_test_case_definition(call: Call) -> Response:
    call.backend.delete_test_case_definition(call.path_params["test_case_definition_id"])
    return Response(status_code=204)


HANDLERS: dict[str, Handler] = {
    "createBatchTest": create_batch_test,
    "getBatchTest": get_batch_test,
    "listBatchTests": list_batch_tests,
    "listTestRuns": list_test_runs,
    "getTestRun": get_test_run,
    "createTestCaseDefinition": create_test_case_definition,
    "getTestCaseDefinition": get_test_case_definition,
    "listTestCaseDefinitions": list_test_case_definitions,
    "updateTestCaseDefinition": update_test_case_definition,
    "deleteTestCaseDefinition": delete_test_case_definition,
    "createBatchCall": create_batch_call,
    "listCalls": list_calls,
    "getCall": get_call,
}
