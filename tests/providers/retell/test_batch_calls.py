"""Retell batch calls through the official retell-sdk: create-batch-call, then the calls it makes, read with
``client.call.list(filter_criteria={"batch_call_id": ...})`` and ``client.call.retrieve``, on a frozen clock."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import retell
from retell import Retell

from mockserver.core.settings import Durations
from mockserver.server.live import LiveServer

FROM = "+14157774444"
STEP = Durations().call


def tasks(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"to_number": f"+1213777{i:04d}", **extra} for i in range(n)]


def of_batch(client: Retell, batch_call_id: str, **options: Any) -> Any:
    criteria = {"batch_call_id": {"type": "string", "op": "eq", "value": batch_call_id}}
    return client.call.list(filter_criteria=criteria, limit=1000, **options)


def test_every_parameter_of_create_batch_call_is_accepted_and_echoed(client: Retell, server: LiveServer) -> None:
    now_ms = server.engine.now() * 1000
    batch = client.batch_call.create_batch_call(
        from_number=FROM,
        tasks=[
            {
                "to_number": "+12137774445",
                "agent_override": {"retell_llm": {"begin_message": "Hi"}},
                "custom_sip_headers": {"X-Custom-Header": "Custom Value"},
                "ignore_e164_validation": False,
                "metadata": {"customer": 7},
                "override_agent_id": "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD",
                "override_agent_version": 3,
                "retell_llm_dynamic_variables": {"customer_name": "John Doe"},
            },
            {"to_number": "1001", "ignore_e164_validation": True, "override_agent_version": "prod"},
        ],
        call_time_window={"windows": [{"start": 0, "end": 1440}], "timezone": "Europe/Paris", "day": ["Sunday", "Monday"]},
        name="First batch call",
        reserved_concurrency=2,
        trigger_timestamp=now_ms + 60_000,
    )
    assert isinstance(batch, retell.types.BatchCallResponse)
    assert batch.batch_call_id.startswith("batch_call_") and batch.name == "First batch call"
    assert (batch.from_number, batch.total_task_count) == (FROM, 2)
    assert batch.scheduled_timestamp == pytest.approx(now_ms + 60_000, abs=1)
    window = batch.call_time_window
    assert window is not None and window.timezone == "Europe/Paris" and window.day == ["Monday", "Sunday"]
    # nothing is dialled before the trigger time (and never on a day the window leaves out)
    assert of_batch(client, batch.batch_call_id).items == []
    server.engine.clock.advance(8 * 86_400)
    calls = {c.to_number: c for c in of_batch(client, batch.batch_call_id).items}
    first, second = calls["+12137774445"], calls["1001"]
    assert first.agent_id == "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD" and first.agent_version == 3
    assert first.metadata == {"customer": 7} and first.retell_llm_dynamic_variables == {"customer_name": "John Doe"}
    assert first.custom_sip_headers == {"X-Custom-Header": "Custom Value"}
    assert second.agent_tag == "prod" and second.agent_id.startswith("agent_")
    for call in calls.values():
        dialled = datetime.fromtimestamp(call.start_timestamp / 1000, ZoneInfo("Europe/Paris"))
        assert dialled.strftime("%A") in ("Sunday", "Monday")


def test_calls_progress_on_the_clock_in_waves_of_the_concurrency_left(client: Retell, server: LiveServer) -> None:
    batch = client.batch_call.create_batch_call(from_number=FROM, tasks=tasks(25), reserved_concurrency=10)
    slots = 20 - 10
    seen: list[Counter[str]] = []
    for _ in range(20):
        page = of_batch(client, batch.batch_call_id, include_total=True)
        statuses = Counter(c.call_status for c in page.items)
        seen.append(statuses)
        assert statuses["registered"] + statuses["ongoing"] <= slots  # never more live calls than slots
        if page.total == 25 and not statuses.keys() & {"registered", "ongoing"}:
            break
        server.engine.clock.advance(STEP / 4)
    else:
        pytest.fail(f"the calls never all ended: {seen}")
    assert seen[0] == Counter({"registered": slots})  # the first wave is dialled at once
    finished = [sum(n for s, n in counts.items() if s in ("ended", "not_connected", "error")) for counts in seen]
    assert finished == sorted(finished) and finished[-1] == 25
    for call in page.items:
        assert call.end_timestamp >= call.start_timestamp and call.duration_ms == call.end_timestamp - call.start_timestamp
        assert call.disconnection_reason and call.direction == "outbound" and call.call_type == "phone_call"


def test_a_call_is_read_back_and_moves_registered_ongoing_ended(client: Retell, server: LiveServer) -> None:
    batch = client.batch_call.create_batch_call(from_number=FROM, tasks=tasks(1), extra_headers={"X-Mock-Scenario": "all_pass"})
    (call,) = of_batch(client, batch.batch_call_id).items
    states = [client.call.retrieve(call.call_id).call_status]
    for _ in range(8):
        server.engine.clock.advance(STEP / 8)
        states.append(client.call.retrieve(call.call_id).call_status)
    assert states[0] == "registered" and states[-1] == "ended" and "ongoing" in states
    assert [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s] == ["registered", "ongoing", "ended"]


@pytest.mark.parametrize(("scenario", "status", "reasons"), [("all_fail", "not_connected", {"dial_no_answer", "dial_busy"}), ("all_error", "error", {"error_unknown"})])
def test_scenarios_set_how_calls_end(client: Retell, server: LiveServer, scenario: str, status: str, reasons: set[str]) -> None:
    batch = client.batch_call.create_batch_call(from_number=FROM, tasks=tasks(6), extra_headers={"X-Mock-Scenario": scenario})
    server.engine.clock.advance(STEP)
    calls = of_batch(client, batch.batch_call_id).items
    assert {c.call_status for c in calls} == {status} and {c.disconnection_reason for c in calls} <= reasons


def test_user_scenario_sets_concurrency_and_mix(client: Retell, server: LiveServer) -> None:
    server.engine.scenarios["two_lines"] = {"concurrency": 2, "call_outcomes": {"ended": 1}}
    batch = client.batch_call.create_batch_call(from_number=FROM, tasks=tasks(5), extra_headers={"X-Mock-Scenario": "two_lines"})
    assert len(of_batch(client, batch.batch_call_id).items) == 2
    server.engine.clock.advance(3 * STEP)
    assert {c.call_status for c in of_batch(client, batch.batch_call_id).items} == {"ended"}


def test_call_time_window_defers_dialling_to_the_next_opening(client: Retell, server: LiveServer) -> None:
    zone = ZoneInfo("America/New_York")
    local = datetime.fromtimestamp(server.engine.now(), zone)
    minute = local.hour * 60 + local.minute
    start = (minute + 120) % 1380  # an hour-long window starting about two hours from now (or soon after midnight)
    batch = client.batch_call.create_batch_call(
        from_number=FROM, tasks=tasks(3), call_time_window={"windows": [{"start": start, "end": start + 60}], "timezone": "America/New_York"}
    )
    assert of_batch(client, batch.batch_call_id).items == []
    server.engine.clock.advance(86_400 + STEP)
    calls = of_batch(client, batch.batch_call_id).items
    assert len(calls) == 3
    for call in calls:
        dialled = datetime.fromtimestamp(call.start_timestamp / 1000, zone)
        assert start <= dialled.hour * 60 + dialled.minute < start + 60


def test_list_calls_pages_filters_and_sorts(client: Retell, server: LiveServer) -> None:
    first = client.batch_call.create_batch_call(from_number=FROM, tasks=tasks(5))
    server.engine.clock.advance(STEP)
    second = client.batch_call.create_batch_call(from_number="+14155550000", tasks=tasks(2))
    server.engine.clock.advance(STEP)
    everything = client.call.list(limit=1000, include_total=True)
    assert everything.total == 7 and everything.items[0].from_number == "+14155550000"  # newest dialled first
    walked, key = [], None
    while True:
        page = client.call.list(limit=3, pagination_key=key, sort_order="ascending") if key else client.call.list(limit=3, sort_order="ascending")
        walked += [c.call_id for c in page.items]
        if not page.has_more:
            break
        key = page.pagination_key
    assert walked == [c.call_id for c in reversed(everything.items)]
    assert [c.call_id for c in client.call.list(limit=2, skip=5, sort_order="ascending").items] == walked[5:]
    by_number = client.call.list(filter_criteria={"from_number": {"type": "string", "op": "eq", "value": "+14155550000"}})
    assert {c.batch_call_id for c in by_number.items} == {second.batch_call_id}
    ended = client.call.list(filter_criteria={"call_status": {"type": "enum", "op": "in", "value": ["ended"]}}, limit=1000)
    assert all(c.call_status == "ended" for c in ended.items)
    prefix = client.call.list(filter_criteria={"batch_call_id": {"type": "string", "op": "sw", "value": first.batch_call_id[:-1]}})
    assert len(prefix.items) >= 5


def test_bad_batch_calls_are_400_in_retells_envelope(client: Retell, server: LiveServer) -> None:
    bad: list[dict[str, Any]] = [
        {"from_number": "4157774444", "tasks": tasks(1)},
        {"from_number": FROM, "tasks": []},
        {"from_number": FROM, "tasks": [{"to_number": "12"}]},
        {"from_number": FROM, "tasks": tasks(1), "call_time_window": {"windows": [{"start": 1200, "end": 60}]}},
        {"from_number": FROM, "tasks": tasks(1), "call_time_window": {"windows": [{"start": 0, "end": 60}], "timezone": "Mars/Olympus"}},
        {"from_number": FROM, "tasks": tasks(1), "reserved_concurrency": 20},
    ]
    for body in bad:
        with pytest.raises(retell.BadRequestError) as caught:
            client.batch_call.create_batch_call(**body)
        assert caught.value.body["status"] == "error" and caught.value.body["message"]
    with pytest.raises(retell.BadRequestError, match="not simulated"):
        client.call.list(filter_criteria={"user_sentiment": {"type": "enum", "op": "in", "value": ["Positive"]}})
    with pytest.raises(retell.UnprocessableEntityError):
        client.call.retrieve("119c3f8e47135a29e65947eeb34cf12d")


def test_batch_call_fixture_runs_from_its_creation(server: LiveServer) -> None:
    backend = server.engine.backend("retell", "fixture-key")
    created_ms = int(server.engine.now() * 1000) - 3_600_000
    backend.load_fixture("batch_call", {"from_number": FROM, "tasks": tasks(3), "batch_call_id": "batch_call_fixture", "creation_timestamp": created_ms})
    client = Retell(api_key="fixture-key", base_url=server.base_url("retell"), max_retries=0)
    calls = of_batch(client, "batch_call_fixture").items
    assert len(calls) == 3 and all(c.call_status in ("ended", "not_connected", "error") for c in calls)
    assert min(c.start_timestamp for c in calls) == created_ms
    with pytest.raises(ValueError, match="batch_call"):
        backend.load_fixture("batch_call", {"from_number": FROM, "tasks": []})


def test_batch_call_from_a_fixture_file(tmp_path: Any, server: LiveServer) -> None:
    from mockserver.config.fixtures import check_fixtures, load_fixture_file, seeder

    path = tmp_path / "calls.yaml"
    path.write_text(
        "fixtures:\n"
        "  - provider: retell\n"
        "    kind: batch_call\n"
        "    data: {batch_call_id: batch_call_from_file, from_number: '+14157774444', tasks: [{to_number: '+12137774445'}]}\n"
    )
    hook = seeder(check_fixtures(load_fixture_file(path), server.engine))
    server.engine.seeders.add(hook)
    try:
        client = Retell(api_key="another-key", base_url=server.base_url("retell"), max_retries=0)
        (call,) = of_batch(client, "batch_call_from_file").items
        assert call.call_status == "registered"  # loaded now: dialled at once, then on with the clock
        server.engine.clock.advance(STEP)
        assert client.call.retrieve(call.call_id).call_status in ("ended", "not_connected", "error")
    finally:
        server.engine.seeders.remove(hook)


def test_scenario_file_keys_for_batch_calls(tmp_path: Any, client: Retell, server: LiveServer) -> None:
    from mockserver.config.documents import DocumentError
    from mockserver.config.scenarios import load_scenario_file

    path = tmp_path / "calls.yaml"
    path.write_text("scenarios:\n  small_account:\n    call_outcomes: {not_connected: 1}\n    concurrency: 1\n")
    server.engine.scenarios.update(load_scenario_file(path).scenarios)
    batch = client.batch_call.create_batch_call(from_number=FROM, tasks=tasks(3), extra_headers={"X-Mock-Scenario": "small_account"})
    assert len(of_batch(client, batch.batch_call_id).items) == 1  # one line: one call at a time
    server.engine.clock.advance(3 * STEP)
    assert {c.call_status for c in of_batch(client, batch.batch_call_id).items} == {"not_connected"}
    path.write_text("scenarios:\n  typo:\n    call_outcomes: {answered: 1}\n")
    with pytest.raises(DocumentError, match="ended, not_connected, error"):
        load_scenario_file(path)


def test_admin_lists_batch_calls_with_their_progress(client: Retell, server: LiveServer) -> None:
    import httpx

    batch = client.batch_call.create_batch_call(from_number=FROM, tasks=tasks(3), extra_headers={"X-Mock-Scenario": "all_pass"})
    (row,) = [r for r in httpx.get(server.url + "/_mock/batches", params={"provider": "retell"}).json()["data"] if r["id"] == batch.batch_call_id]
    assert (row["kind"], row["status"], row["total"], row["ended_count"]) == ("batch_call", "in_progress", 3, 0)
    server.engine.clock.advance(STEP)
    (row,) = [r for r in httpx.get(server.url + "/_mock/batches", params={"provider": "retell"}).json()["data"] if r["id"] == batch.batch_call_id]
    assert (row["status"], row["ended_count"]) == ("complete", 3)


def test_metadata_dynamic_variables_and_agent_tag_filters_are_evaluated(client: Retell, server: LiveServer) -> None:
    """The keyed filters the SDK sends (``metadata``, ``dynamic_variables``: string, number, boolean, range, enum,
    present) and ``agent_tag``, on what each task gave its call; the filters on what the fake's calls never carry
    are refused, each naming why."""
    people = [
        {"to_number": "+12137770001", "metadata": {"tier": "gold", "score": 7}, "retell_llm_dynamic_variables": {"name": "Ada", "age": "36", "vip": "true"},
         "override_agent_version": "prod"},
        {"to_number": "+12137770002", "metadata": {"tier": "silver", "score": 3}, "retell_llm_dynamic_variables": {"name": "Bob", "age": "51", "vip": "false"}},
        {"to_number": "+12137770003", "retell_llm_dynamic_variables": {"name": "Cy"}, "override_agent_version": "staging"},
    ]
    client.batch_call.create_batch_call(from_number=FROM, tasks=people)  # type: ignore[arg-type]

    def numbers(**criteria: Any) -> list[str]:
        return sorted(c.to_number for c in client.call.list(filter_criteria=criteria, limit=1000).items)  # type: ignore[arg-type]

    assert numbers(metadata=[{"key": "tier", "type": "string", "op": "eq", "value": "gold"}]) == ["+12137770001"]
    assert numbers(metadata=[{"key": "score", "type": "number", "op": "ge", "value": 3}, {"key": "tier", "type": "enum", "op": "in", "value": ["silver"]}]) == ["+12137770002"]
    assert numbers(metadata=[{"key": "tier", "type": "present", "op": "np"}]) == ["+12137770003"]
    assert numbers(dynamic_variables=[{"key": "age", "type": "range", "op": "bt", "value": [30, 40]}]) == ["+12137770001"]
    assert numbers(dynamic_variables=[{"key": "vip", "type": "boolean", "op": "eq", "value": False}]) == ["+12137770002"]
    assert numbers(dynamic_variables=[{"key": "name", "type": "string", "op": "sw", "value": "C"}]) == ["+12137770003"]
    assert numbers(agent_tag={"type": "enum", "op": "in", "value": ["prod", "staging"]}) == ["+12137770001", "+12137770003"]
    with pytest.raises(retell.BadRequestError, match="op 'gt' does not go with type 'string'"):
        numbers(metadata=[{"key": "tier", "type": "string", "op": "gt", "value": "a"}])
    for refused in ("call_successful", "in_voicemail", "combined_cost", "e2e_latency_p50", "tool_calls", "custom_attributes",
                    "custom_analysis_data", "data_storage_setting", "user_sentiment"):
        with pytest.raises(retell.BadRequestError, match=f"filter_criteria.{refused} is not simulated by the mock server: ") as caught:
            client.call.list(filter_criteria={refused: {"type": "boolean", "op": "eq", "value": True}})  # type: ignore[misc, dict-item]
        assert caught.value.body["status"] == "error"


def test_every_call_filter_the_sdk_sends_is_evaluated_or_refused_with_a_reason() -> None:
    from retell.types.call_list_params import FilterCriteria

    from mockserver.providers.retell.call_filters import REFUSED, SUPPORTED

    assert set(FilterCriteria.__annotations__) == SUPPORTED | set(REFUSED)
    assert not SUPPORTED & set(REFUSED)


def test_a_call_and_a_test_run_load_under_the_ids_a_fixture_gives(server: LiveServer) -> None:
    """The ids the SDKs' own generated tests read (``call.retrieve("119c…")``, ``get_test_run(...)``) can be preloaded."""
    backend = server.engine.backend("retell", "fixture-ids")
    call_id, run_id = "119c3f8e47135a29e65947eeb34cf12d", "test_case_job_fixture"
    backend.load_fixture("call", {"call_id": call_id, "from_number": FROM, "to_number": "+12137774445", "metadata": {"crm": "42"}})
    backend.load_fixture("test_run", {"test_case_job_id": run_id, "response_engine": {"type": "retell-llm", "llm_id": "llm_x"}, "status": "fail"})
    backend.load_fixture("batch_call", {"from_number": FROM, "tasks": [{"to_number": "+12137774446", "call_id": "call_in_batch"}]})
    client = Retell(api_key="fixture-ids", base_url=server.base_url("retell"), max_retries=0)
    call = client.call.retrieve(call_id)
    assert (call.call_id, call.to_number, call.metadata) == (call_id, "+12137774445", {"crm": "42"})  # type: ignore[union-attr]
    assert client.call.retrieve("call_in_batch").to_number == "+12137774446"
    run = client.tests.get_test_run(run_id)
    assert (run.test_case_job_id, run.status) == (run_id, "fail")
    batch_id = server.engine.backend("retell", "fixture-ids").runs[run_id].batch_id
    assert client.tests.get_batch_test(batch_id).fail_count == 1
    for kind, data in (("call", {"call_id": call_id, "from_number": FROM, "to_number": "+12137774447"}),
                       ("test_run", {"test_case_job_id": run_id, "response_engine": {"type": "retell-llm", "llm_id": "l"}}),
                       ("test_run", {"test_case_job_id": "other", "response_engine": {"type": "retell-llm", "llm_id": "l"}, "status": "ended"})):
        with pytest.raises(ValueError, match="retell fixture (batch_call|batch_test|test_run)"):  # taken id, bad status
            backend.load_fixture(kind, data)
