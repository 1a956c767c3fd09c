"""The official retell-sdk against the fake, over a real socket: the flows issue 3 asks for."""

from __future__ import annotations

from typing import Any

import pytest
import retell
from retell import Retell

from mockserver.core.settings import Durations, Settings
from mockserver.server.live import LiveServer

LLM = {"type": "retell-llm", "llm_id": "llm_234sdertfsdsfsdf", "version": 1}
FLOW = {"type": "conversation-flow", "conversation_flow_id": "conversation_flow_8c1e5a2b7d9f"}
STEP = Durations().test_run


def define(client: Retell, name: str = "Reschedule", engine: dict[str, Any] = LLM, **extra: Any) -> str:
    definition = client.tests.create_test_case_definition(
        name=name, response_engine=engine, user_prompt="You want to move your appointment.", metrics=["Confirms the new time"], **extra
    )
    return definition.test_case_definition_id


def test_batch_test_runs_to_complete_and_is_listed(client: Retell, server: LiveServer) -> None:
    ids = [define(client, f"case {i}") for i in range(3)]
    batch = client.tests.create_batch_test(response_engine=LLM, test_case_definition_ids=ids)
    assert (batch.status, batch.total_count, batch.pass_count + batch.fail_count + batch.error_count) == ("in_progress", 3, 0)
    seen = [batch]
    while batch.status != "complete":
        assert len(seen) < 20, "the batch never completed"
        server.engine.clock.advance(STEP / 4)
        batch = client.tests.get_batch_test(batch.test_case_batch_job_id)
        seen.append(batch)
    finished = [b.pass_count + b.fail_count + b.error_count for b in seen]
    assert finished == sorted(finished) and finished[-1] == batch.total_count == 3
    assert all(b.status == "in_progress" for b in seen[:-1])
    listed = client.tests.list_batch_tests(type="retell-llm", llm_id=LLM["llm_id"])
    assert [b.test_case_batch_job_id for b in listed.items] == [batch.test_case_batch_job_id]
    assert listed.items[0].status == "complete" and listed.has_more is False


def test_timestamps_are_milliseconds_and_modified_moves(client: Retell, server: LiveServer) -> None:
    now_ms = server.engine.now() * 1000
    definition_id = define(client)
    definition = client.tests.get_test_case_definition(definition_id)
    assert abs(definition.creation_timestamp - now_ms) < 1000
    assert definition.user_modified_timestamp == definition.creation_timestamp
    server.engine.clock.advance(30)
    updated = client.tests.update_test_case_definition(definition_id, metrics=["Confirms the new time", "Says goodbye"])
    assert updated.metrics == ["Confirms the new time", "Says goodbye"] and updated.name == "Reschedule"
    assert updated.creation_timestamp == definition.creation_timestamp
    assert updated.user_modified_timestamp == definition.user_modified_timestamp + 30_000

    batch = client.tests.create_batch_test(response_engine=LLM, test_case_definition_ids=[definition_id])
    modified = [batch.user_modified_timestamp]
    for _ in range(4):
        server.engine.clock.advance(STEP / 4)
        modified.append(client.tests.get_batch_test(batch.test_case_batch_job_id).user_modified_timestamp)
    assert modified == sorted(modified) and modified[-1] > modified[0]
    assert modified[-1] <= (server.engine.now() * 1000)


def test_runs_go_pending_in_progress_then_a_result(client: Retell, server: LiveServer) -> None:
    batch = client.tests.create_batch_test(response_engine=LLM, test_case_definition_ids=[define(client)])
    (run,) = client.tests.list_test_runs(batch.test_case_batch_job_id).items
    assert run.status == "pending" and run.result_explanation is None
    server.engine.clock.advance(STEP / 4)
    assert client.tests.get_test_run(run.test_case_job_id).status == "in_progress"
    server.engine.clock.advance(STEP)
    done = client.tests.get_test_run(run.test_case_job_id)
    assert done.status in ("pass", "fail", "error") and done.result_explanation
    assert done.test_case_definition_snapshot.name == "Reschedule"


def test_snapshot_keeps_the_definition_as_it_was(client: Retell, server: LiveServer) -> None:
    definition_id = define(client)
    batch = client.tests.create_batch_test(response_engine=LLM, test_case_definition_ids=[definition_id])
    client.tests.update_test_case_definition(definition_id, name="Renamed")
    client.tests.delete_test_case_definition(definition_id)
    (run,) = client.tests.list_test_runs(batch.test_case_batch_job_id).items
    assert run.test_case_definition_snapshot.name == "Reschedule"


def test_definition_crud(client: Retell, server: LiveServer) -> None:
    created = client.tests.create_test_case_definition(
        name="Transfer", response_engine=FLOW, user_prompt="Ask for billing.", metrics=["Transfers"],
        dynamic_variables={"customer_name": "Jane"}, llm_model="claude-4.5-haiku",
        tool_mocks=[{"tool_name": "transfer_call", "input_match_rule": {"type": "any"}, "output": "{}", "result": True}],
    )
    assert created.type == "simulation" and created.llm_model == "claude-4.5-haiku"
    assert created.tool_mocks[0].tool_name == "transfer_call" and created.dynamic_variables == {"customer_name": "Jane"}
    listed = client.tests.list_test_case_definitions(type="conversation-flow", conversation_flow_id=FLOW["conversation_flow_id"])
    assert [d.test_case_definition_id for d in listed.items] == [created.test_case_definition_id]
    assert client.tests.list_test_case_definitions(type="retell-llm", llm_id="llm_other").items == []
    assert client.tests.delete_test_case_definition(created.test_case_definition_id) is None
    with pytest.raises(retell.NotFoundError):
        client.tests.get_test_case_definition(created.test_case_definition_id)


def test_defaults_fill_the_required_fields(client: Retell, server: LiveServer) -> None:
    definition = client.tests.get_test_case_definition(define(client))
    assert (definition.dynamic_variables, definition.tool_mocks, definition.llm_model) == ({}, [], "gpt-4.1")


def test_pagination_walks_every_item_once(client: Retell, server: LiveServer) -> None:
    ids = [define(client, f"case {i}") for i in range(5)]
    seen: list[str] = []
    key = None
    while True:
        page = client.tests.list_test_case_definitions(type="retell-llm", llm_id=LLM["llm_id"], limit=2, **({"pagination_key": key} if key else {}))
        seen += [d.test_case_definition_id for d in page.items]
        if not page.has_more:
            assert page.pagination_key is None
            break
        key = page.pagination_key
    assert seen == ids[::-1]  # newest first


def test_list_runs_pages_in_definition_order(client: Retell, server: LiveServer) -> None:
    ids = [define(client, f"case {i}") for i in range(3)]
    batch = client.tests.create_batch_test(response_engine=LLM, test_case_definition_ids=ids)
    first = client.tests.list_test_runs(batch.test_case_batch_job_id, limit=2)
    rest = client.tests.list_test_runs(batch.test_case_batch_job_id, limit=2, pagination_key=first.pagination_key)
    assert first.has_more and not rest.has_more
    assert [r.test_case_definition_id for r in [*first.items, *rest.items]] == ids


def test_list_batch_tests_filters_by_response_engine(client: Retell, server: LiveServer) -> None:
    llm_batch = client.tests.create_batch_test(response_engine=LLM, test_case_definition_ids=[define(client)])
    flow_batch = client.tests.create_batch_test(response_engine=FLOW, test_case_definition_ids=[define(client, engine=FLOW)])
    flows = client.tests.list_batch_tests(type="conversation-flow", conversation_flow_id=FLOW["conversation_flow_id"])
    assert [b.test_case_batch_job_id for b in flows.items] == [flow_batch.test_case_batch_job_id]
    assert client.tests.list_batch_tests(type="retell-llm", llm_id=LLM["llm_id"], version=1).items[0].test_case_batch_job_id == llm_batch.test_case_batch_job_id
    assert client.tests.list_batch_tests(type="retell-llm", llm_id=LLM["llm_id"], version=2).items == []
    # llm_id / conversation_flow_id are optional in Retell's spec and the SDK: without one, every engine of the type
    assert [b.test_case_batch_job_id for b in client.tests.list_batch_tests(type="retell-llm").items] == [llm_batch.test_case_batch_job_id]
    assert [d.response_engine.type for d in client.tests.list_test_case_definitions(type="conversation-flow").items] == ["conversation-flow"]
    unknown = client.tests.list_batch_tests(type="retell-llm", llm_id=LLM["llm_id"], pagination_key="unknown-key")
    assert unknown.items == [] and unknown.has_more is False


def test_unknown_ids_are_not_found(client: Retell, server: LiveServer) -> None:
    for call in (client.tests.get_batch_test, client.tests.get_test_run, client.tests.list_test_runs, client.tests.get_test_case_definition):
        with pytest.raises(retell.NotFoundError) as info:
            call("does-not-exist")
        assert info.value.status_code == 404 and info.value.body["status"] == "error"


def test_unknown_definition_ids_are_rejected_with_422(client: Retell, server: LiveServer) -> None:
    known = define(client)
    with pytest.raises(retell.UnprocessableEntityError) as info:
        client.tests.create_batch_test(response_engine=LLM, test_case_definition_ids=[known, "missing-id"])
    assert info.value.body["status"] == "error" and "missing-id" in info.value.body["message"]
    assert client.tests.list_batch_tests(type="retell-llm", llm_id=LLM["llm_id"]).items == []


def test_custom_llm_is_refused_where_the_spec_refuses_it(client: Retell, server: LiveServer) -> None:
    custom = {"type": "custom-llm", "llm_websocket_url": "wss://example.invalid/llm"}
    with pytest.raises(retell.BadRequestError) as info:
        client.tests.create_batch_test(response_engine=custom, test_case_definition_ids=[define(client)])  # type: ignore[arg-type]
    assert info.value.body["status"] == "error"


def test_scenario_header_sets_the_outcomes(client: Retell, server: LiveServer) -> None:
    ids = [define(client, f"case {i}") for i in range(4)]
    batch = client.tests.create_batch_test(response_engine=LLM, test_case_definition_ids=ids, extra_headers={"X-Mock-Scenario": "all_fail"})
    server.engine.clock.advance(STEP)
    done = client.tests.get_batch_test(batch.test_case_batch_job_id)
    assert (done.status, done.fail_count, done.pass_count, done.error_count) == ("complete", 4, 0, 0)
    with pytest.raises(retell.BadRequestError) as info:
        client.tests.create_batch_test(response_engine=LLM, test_case_definition_ids=ids, extra_headers={"X-Mock-Scenario": "no-such"})
    assert "no-such" in info.value.body["message"]


def test_user_scenario_and_server_default(client: Retell, server: LiveServer) -> None:
    server.engine.scenarios["flaky_engine"] = {"outcomes": {"error": 1}}
    server.engine.scenarios.default = "flaky_engine"
    batch = client.tests.create_batch_test(response_engine=LLM, test_case_definition_ids=[define(client)])
    server.engine.clock.advance(STEP)
    assert client.tests.get_batch_test(batch.test_case_batch_job_id).error_count == 1


def test_wrong_key_is_an_authentication_error() -> None:
    with LiveServer(Settings(response_validation="strict", api_keys={"retell": ("good",)})) as server:
        bad = Retell(api_key="wrong", base_url=server.base_url("retell"), max_retries=0)
        with pytest.raises(retell.AuthenticationError) as info:
            bad.tests.get_batch_test("anything")
        assert info.value.body == {"status": "error", "message": "API key is missing or invalid."}
        good = Retell(api_key="good", base_url=server.base_url("retell"), max_retries=0)
        assert good.tests.list_batch_tests(type="retell-llm", llm_id="llm_x").items == []
        assert list(server.engine.violations) == []


def test_keys_are_namespaces(client: Retell, server: LiveServer) -> None:
    definition_id = define(client)
    other = Retell(api_key="another-key", base_url=server.base_url("retell"), max_retries=0)
    with pytest.raises(retell.NotFoundError):
        other.tests.get_test_case_definition(definition_id)
