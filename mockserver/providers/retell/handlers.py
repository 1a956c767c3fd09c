"""HTTP for Retell batch tests: parse, call one backend verb, serialise (timestamps in milliseconds)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ...core.errors import InvalidRequest
from ..base import Call, Handler, json_response
from .models import BatchTest, Definition, RetellBackend, Run
from .scenarios import Plan, plan_for

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


def page_json(items: list[dict[str, Any]], ids: list[str], has_more: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"items": items, "has_more": has_more}
    if has_more:
        data["pagination_key"] = ids[-1]
    return data


def scenario_plan(call: Call) -> Plan:
    """The request's ``X-Mock-Scenario``, else the server's default scenario."""
    name, explicit = call.scenario()
    return plan_for(name, call.engine.scenarios, explicit)


def engine_filter(call: Call) -> tuple[str, str]:
    """The response-engine filter. Retell's docs require the id that matches ``type`` (prose the schema cannot state)."""
    kind = call.query("type")
    param = ENGINE_ID_PARAM[kind]
    engine_id = call.query(param)
    if not engine_id:
        raise InvalidRequest(f"{param} is required when type is {kind}.", param=param)
    return kind, engine_id


async def create_batch_test(call: Call) -> Response:
    backend: RetellBackend = call.backend
    batch = backend.create_batch_test(call.body["response_engine"], call.body["test_case_definition_ids"], scenario_plan(call))
    return json_response(batch_json(batch), status=201)


async def get_batch_test(call: Call) -> Response:
    return json_response(batch_json(call.backend.get_batch_test(call.path_params["test_case_batch_job_id"])))


async def list_batch_tests(call: Call) -> Response:
    kind, engine_id = engine_filter(call)
    batches, has_more = call.backend.list_batch_tests(
        kind, engine_id, version=call.query("version"), limit=call.query("limit", 50), pagination_key=call.query("pagination_key")
    )
    return json_response(page_json([batch_json(b) for b in batches], [b.id for b in batches], has_more))


async def list_test_runs(call: Call) -> Response:
    runs, has_more = call.backend.list_test_runs(
        call.path_params["test_case_batch_job_id"], limit=call.query("limit", 50), pagination_key=call.query("pagination_key")
    )
    seed = call.engine.settings.seed
    return json_response(page_json([run_json(r, seed) for r in runs], [r.id for r in runs], has_more))


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
    return json_response(page_json([definition_json(d) for d in definitions], [d.id for d in definitions], has_more))


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
}
