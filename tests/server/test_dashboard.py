"""The dashboard's server side: the page and its files, and the JSON read model it polls (/_mock/ui/...)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
from openai import OpenAI
from retell import Retell

from mockserver.core.settings import Settings
from mockserver.server.live import LiveServer
from tests.conftest import jsonl

STATIC = Path(__file__).resolve().parents[2] / "mockserver" / "server" / "dashboard_static"
ANYAPI_KEY = "sk-anyapi-0123456789"
LLM = {"type": "retell-llm", "llm_id": "llm_dashboard"}


def _anyapi(server: LiveServer, key: str = ANYAPI_KEY) -> OpenAI:
    return OpenAI(base_url=server.base_url("anyapi"), api_key=key, max_retries=0)


def _batch(client: OpenAI, lines: int = 3, **extra: object) -> str:
    file = client.files.create(file=("input.jsonl", io.BytesIO(jsonl(lines))), purpose="batch")
    return client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h", **extra).id  # type: ignore[arg-type]


def _state(server: LiveServer) -> dict:
    answer = httpx.get(server.url + "/_mock/ui/state")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    return answer.json()


def _detail(server: LiveServer, row: dict) -> dict:
    answer = httpx.get(server.url + "/_mock/ui/batch", params={"provider": row["provider"], "ns": row["ns"], "id": row["id"]})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_page_and_its_files_are_served_with_a_strict_policy(server: LiveServer) -> None:
    page = httpx.get(server.url + "/_mock/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "default-src 'none'" in policy
    assert page.headers["referrer-policy"] == "no-referrer"
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        answer = httpx.get(server.url + "/_mock/ui/static/" + name)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
    assert httpx.get(server.url + "/_mock/ui/static/..%2Fdashboard.py").status_code == 404
    assert httpx.get(server.url + "/_mock/ui/static/index.html").status_code == 404
    slash = httpx.get(server.url + "/_mock/ui/?token=t")
    assert slash.status_code == 308 and slash.headers["location"] == "/_mock/ui?token=t"


def test_the_page_loads_nothing_from_elsewhere_and_never_parses_data_as_html() -> None:
    page = (STATIC / "index.html").read_text()
    script = (STATIC / "app.js").read_text()
    assert not re.search(r"(src|href)=\"(https?:)?//", page), "the page must work offline"
    assert "<script>" not in page and " on" not in re.sub(r"<[^>]*data-[^>]*>", "", page).split("<body>")[0]
    for unsafe in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert unsafe not in script, unsafe
    assert not re.search(r"https?://", script)


def test_state_lists_every_providers_batches_with_masked_keys(server: LiveServer) -> None:
    server.engine.clock.set_speed(0)
    _batch(_anyapi(server), 3, metadata={"job": "<script>alert(1)</script>"})
    phaseo = OpenAI(base_url=server.base_url("phaseo"), api_key="aistats_v1_sk_secretsecret", max_retries=0)
    _batch(phaseo, 2)
    retell = Retell(api_key="retell-secret-key", base_url=server.base_url("retell"), max_retries=0)
    definition = retell.tests.create_test_case_definition(name="Reschedule", response_engine=LLM, user_prompt="Move it.", metrics=["Confirms"])
    retell.tests.create_batch_test(response_engine=LLM, test_case_definition_ids=[definition.test_case_definition_id] * 2)
    formant = httpx.post(
        server.base_url("formant") + "/v1/batch-call",
        headers={"Authorization": "Bearer formant-secret-key"},
        data={"agent_id": "7", "name": "March follow-ups"},
        files={"file": ("c.csv", b"customer_phone,customer_name\n+15550000001,Ann\n+15550000002,Bob\n", "text/csv")},
    )
    assert formant.status_code == 200
    answer = httpx.get(server.url + "/_mock/ui/state")
    for key in (ANYAPI_KEY, "aistats_v1_sk_secretsecret", "retell-secret-key", "formant-secret-key"):
        assert key not in answer.text
    state = answer.json()
    rows = {row["provider"]: row for row in state["batches"]}
    assert {p: r["status"] for p, r in rows.items()} == {"anyapi": "validating", "phaseo": "validating", "retell": "in_progress", "formant": "pending"}
    assert rows["anyapi"]["key"] == "sk-...6789" and rows["anyapi"]["label"] == "job=<script>alert(1)</script>"
    assert [m["state"] for m in rows["anyapi"]["planned"]] == ["in_progress", "finalizing", "completed"]
    assert rows["retell"]["progress"] == {"total": 2, "succeeded": 0, "failed": 0}
    assert rows["formant"]["label"] == "March follow-ups" and [m["state"] for m in rows["formant"]["planned"]] == ["processing", "completed"]
    assert state["clock"]["speed"] == 0 and {k["provider"] for k in state["keys"]} == set(rows)

    server.engine.clock.advance(60)
    rows = {row["provider"]: row for row in _state(server)["batches"]}
    assert {p: r["status"] for p, r in rows.items()} == {"anyapi": "completed", "phaseo": "completed", "retell": "complete", "formant": "completed"}
    assert rows["anyapi"]["counts"] == {"total": 3, "completed": 3, "failed": 0}
    assert [m["state"] for m in rows["anyapi"]["timeline"]] == ["validating", "in_progress", "finalizing", "completed"]
    retell_detail = _detail(server, rows["retell"])
    assert len(retell_detail["runs"]) == 2 and {r["status"] for r in retell_detail["runs"]} <= {"pass", "fail", "error"}
    formant_detail = _detail(server, rows["formant"])
    assert [c["phone"] for c in formant_detail["calls"]] == ["+15550000001", "+15550000002"]
    assert formant_detail["metrics"]["total_processed"] == 2 and formant_detail["calls"][0]["parameters"] == {"customer_name": "Ann"}


def test_retell_batch_calls_are_listed_with_their_tasks_as_calls(server: LiveServer) -> None:
    server.engine.clock.set_speed(0)
    retell = Retell(api_key="retell-calls-key", base_url=server.base_url("retell"), max_retries=0)
    now_ms = int(server.engine.now() * 1000)
    tasks = [{"to_number": f"+1415555010{i}"} for i in range(3)]
    dialling = retell.batch_call.create_batch_call(from_number="+14155550199", tasks=tasks, name="Reminders <b>today</b>")  # type: ignore[arg-type]
    later = retell.batch_call.create_batch_call(from_number="+14155550199", tasks=tasks[:1], name="Tomorrow", trigger_timestamp=now_ms + 3_600_000)  # type: ignore[arg-type]
    rows = {row["id"]: row for row in _state(server)["batches"] if row["provider"] == "retell"}
    assert set(rows) == {dialling.batch_call_id, later.batch_call_id}
    now_row, later_row = rows[dialling.batch_call_id], rows[later.batch_call_id]
    assert (now_row["kind"], now_row["status"], now_row["label"]) == ("batch_call", "in_progress", "Reminders <b>today</b>")
    assert [m["state"] for m in now_row["timeline"]] == ["scheduled", "in_progress"] and [m["state"] for m in now_row["planned"]] == ["complete"]
    assert now_row["progress"] == {"total": 3, "succeeded": 0, "failed": 0} and now_row["counts"]["total_count"] == 3
    assert later_row["status"] == "scheduled" and [m["state"] for m in later_row["planned"]] == ["in_progress", "complete"]
    waiting = _detail(server, later_row)
    assert [(c["to_number"], c["status"], c["call_id"]) for c in waiting["phone_calls"]] == [("+14155550100", "queued", None)]

    server.engine.clock.advance(60)
    done = _detail(server, {**now_row, "provider": "retell"})
    assert done["status"] == "complete" and [m["state"] for m in done["timeline"]] == ["scheduled", "in_progress", "complete"]
    assert done["from_number"] == "+14155550199" and done["phone_calls_total"] == 3
    assert {c["status"] for c in done["phone_calls"]} <= {"ended", "not_connected", "error"} and all(c["disconnection_reason"] for c in done["phone_calls"])
    criteria = {"batch_call_id": {"type": "string", "op": "eq", "value": dialling.batch_call_id}}
    listed = {call.call_id: call for call in retell.call.list(filter_criteria=criteria).items}  # type: ignore[arg-type]
    assert {c["call_id"]: c["status"] for c in done["phone_calls"]} == {call_id: call.call_status for call_id, call in listed.items()}
    assert done["progress"]["succeeded"] + done["progress"]["failed"] == 3


def test_line_previews_show_what_the_batch_writes(server: LiveServer) -> None:
    server.engine.clock.set_speed(0)
    client = _anyapi(server)
    batch_id = _batch(client, 7)
    server.engine.clock.advance(60)
    row = next(r for r in _state(server)["batches"] if r["id"] == batch_id)
    detail = _detail(server, row)
    output = detail["files"]["output"]  # nobody has read the batch since it finished: reads are pure
    assert output["line_count"] == 7 and len(output["lines"]) == 5 and '"custom_id":"req-0"' in output["lines"][0]
    assert detail["files"]["input"]["line_count"] == 7 and detail["files"]["error"] is None
    real = client.batches.retrieve(batch_id)
    assert real.status == "completed" and real.output_file_id is not None
    assert client.files.content(real.output_file_id).text.splitlines()[:5] == output["lines"]
    assert output["id"] == real.output_file_id  # the file the dashboard showed is the one the client gets


def test_reading_the_dashboard_changes_nothing_a_client_sees_later() -> None:
    """Two servers with one seed, one watched by the dashboard all along: the clients get the same ids and
    objects (an OpenAI batch that finishes writes files: a read that advanced it would draw their ids)."""

    def run(watch: bool) -> list[object]:
        with LiveServer(Settings(clock_speed=0.0, clock_start=1_800_000_000.0)) as server:
            client = _anyapi(server)
            peek = (lambda: (_state(server), [_detail(server, r) for r in _state(server)["batches"]])) if watch else (lambda: None)
            first, second = _batch(client, 2), _batch(client, 3)
            peek()
            server.engine.clock.advance(60)
            peek()
            later = client.files.create(file=("later.jsonl", io.BytesIO(jsonl(1))), purpose="batch").id
            peek()
            seen: list[object] = [later]
            for batch_id in (second, first):
                batch = client.batches.retrieve(batch_id)
                seen += [batch.model_dump(), client.files.content(batch.output_file_id or "").text]
            peek()
            seen.append(client.files.create(file=("last.jsonl", io.BytesIO(jsonl(1))), purpose="batch").id)
            return seen

    assert run(watch=True) == run(watch=False)


def test_a_detail_request_names_what_is_wrong(server: LiveServer) -> None:
    url = server.url + "/_mock/ui/batch"
    missing = httpx.get(url, params={"provider": "anyapi"})
    assert missing.status_code == 400 and "'ns'" in missing.json()["error"]["message"]
    unknown = httpx.get(url, params={"provider": "nope", "ns": "x", "id": "y"})
    assert unknown.status_code == 400 and "unknown provider 'nope'" in unknown.json()["error"]["message"]
    absent = httpx.get(url, params={"provider": "anyapi", "ns": "x", "id": "batch_x"})
    assert absent.status_code == 404 and "no anyapi batch 'batch_x'" in absent.json()["error"]["message"]
