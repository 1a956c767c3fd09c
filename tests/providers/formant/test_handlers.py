"""FormantAI batch calls over HTTP (httpx; FormantAI has no SDK), against a strict live server."""

from __future__ import annotations

import datetime

import httpx
import pytest

from mockserver.core.settings import Durations, Settings
from mockserver.server.live import LiveServer
from mockserver.spec.loader import load_spec

FINAL_COUNTS = ("completed_count", "failed_count", "busy_count", "no_answer_count", "unreachable_count", "socket_failure_count")
DURATIONS = Durations()


def phones_csv(rows: int) -> bytes:
    """A valid batch CSV of ``rows`` calls (customer_phone plus a name parameter)."""
    lines = ["customer_phone,customer_name", *(f"+9198765{i:05d},Customer {i}" for i in range(rows))]
    return ("\n".join(lines) + "\n").encode()


def create(
    client: httpx.Client, csv: bytes, name: str = "March Follow Ups", agent_id: int = 123, filename: str = "contacts.csv", **headers: str
) -> httpx.Response:
    return client.post(
        "/v1/batch-call", data={"agent_id": str(agent_id), "name": name}, files={"file": (filename, csv, "text/csv")}, headers=headers
    )


def metrics(client: httpx.Client, batch_id: int) -> dict[str, float]:
    response = client.get(f"/v1/batch-calls/{batch_id}/metrics")
    assert response.status_code == 200
    return response.json()["data"]


def seed_example() -> dict[str, object]:
    """The response example of seed 000, as kept in specs/formant.yaml."""
    op = next(o for o in load_spec("formant").operations if o.operation_id == "get-batch-call-metrics")
    return op.node["responses"]["200"]["content"]["application/json"]["example"]


def test_create_answers_the_documented_shape(client: httpx.Client) -> None:
    response = create(client, phones_csv(5))
    assert response.status_code == 200
    data = response.json()["data"]
    assert list(data) == ["id", "name", "agent_id", "status", "total_recipients", "created_at"]
    assert (data["id"], data["agent_id"], data["status"], data["total_recipients"]) == (1, 123, "pending", 5)
    assert datetime.datetime.fromisoformat(data["created_at"]).tzinfo is not None


def test_metrics_add_up_to_the_rows_once_done(client: httpx.Client, server: LiveServer) -> None:
    rows = 37
    batch_id = create(client, phones_csv(rows)).json()["data"]["id"]
    statuses = []
    for _ in range(60):
        data = metrics(client, batch_id)
        processed = sum(int(data[k]) for k in FINAL_COUNTS)
        assert data["total_processed"] == processed
        assert processed + data["in_progress_count"] + data["pending_retry_count"] <= rows
        assert data["success_count"] <= data["completed_count"]
        assert data["success_rate"] == round(100 * data["success_count"] / rows, 2)  # percent of recipients (the guide's)
        statuses.append(client.get(f"/v1/batch-calls/{batch_id}").json()["data"]["status"])
        if statuses[-1] == "completed":
            break
        server.engine.clock.advance(DURATIONS.call / 2)
    assert statuses[0] == "pending" and "processing" in statuses and statuses[-1] == "completed"
    assert processed == data["total_processed"] == rows
    assert data["in_progress_count"] == data["pending_retry_count"] == 0
    assert 50 < data["success_rate"] <= 100 and data["success_count"] > rows / 2
    assert 0 < data["avg_duration_seconds"] <= DURATIONS.call


def test_the_seed_example_request_answers_the_seed_shape(client: httpx.Client, server: LiveServer) -> None:
    create(client, phones_csv(3))
    server.engine.clock.advance(60)
    response = client.get("/v1/batch-calls/1/metrics", headers={"Content-Type": "application/json"})
    example = seed_example()["data"]
    assert response.status_code == 200 and list(response.json()) == ["data"]
    data = response.json()["data"]
    assert sorted(data) == sorted(example)
    assert all(type(data[k]) is type(v) or {type(data[k]), type(v)} <= {int, float} for k, v in example.items())


def test_a_fixture_returns_the_seed_example_exactly(client: httpx.Client, server: LiveServer) -> None:
    example = seed_example()["data"]
    server.engine.backend("formant", "test-key").load_fixture(
        "batch_call", {"id": 1, "name": "March Follow Ups", "agent_id": 123, "status": "processing", "metrics": example}
    )
    assert client.get("/v1/batch-calls/1/metrics").json() == {"data": example}
    batch = client.get("/v1/batch-calls/1").json()["data"]
    assert (batch["status"], batch["total_recipients"]) == ("processing", 210)
    assert create(client, phones_csv(1)).json()["data"]["id"] == 2  # new ids continue after the fixture's


@pytest.mark.parametrize(
    "filename, content, needle",
    [
        ("contacts.csv", b"phone,name\n+919876543210,A\n", "Row 1 (header) has no customer_phone column"),
        ("contacts.csv", b"customer_phone,name\n+919876543210,A\n98765,B\n", "Row 3: customer_phone '98765' is not an E.164 number"),
        ("contacts.csv", b"customer_phone,name\n+919876543210,A,extra\n", "Row 2 has 3 fields"),
        ("contacts.csv", b"", "is empty"),
        ("contacts.csv", b"customer_phone,name\n", "no rows"),
        ("contacts.xlsx", b"customer_phone\n+919876543210\n", "must be a .csv file"),
        ("contacts.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a CSV file"),
    ],
)
def test_bad_csv_is_invalid_request(client: httpx.Client, filename: str, content: bytes, needle: str) -> None:
    response = create(client, content, filename=filename)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request" and needle in error["message"]
    assert client.get("/v1/batch-calls").json()["total"] == 0


def test_missing_fields_are_invalid_request(client: httpx.Client) -> None:
    response = client.post("/v1/batch-call", data={"agent_id": "1", "name": "x"}, files={"other": ("a.csv", b"x", "text/csv")})
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request"
    response = client.post("/v1/batch-call", data={"agent_id": "1", "name": "x"}, files={"file": (None, b"customer_phone")})
    assert response.status_code == 400 and "file" in response.json()["error"]["message"]


def test_ids_are_integers_and_listing_pages_with_limit_and_offset(client: httpx.Client) -> None:
    for i in range(5):
        create(client, phones_csv(1), name=f"Campaign {i}", agent_id=7 if i % 2 else 8)
    first = client.get("/v1/batch-calls", params={"limit": 2}).json()
    assert [b["id"] for b in first["data"]] == [5, 4] and first["has_more"] is True and first["total"] == 5
    last = client.get("/v1/batch-calls", params={"limit": 2, "offset": 4}).json()
    assert [b["id"] for b in last["data"]] == [1] and last["has_more"] is False
    by_agent = client.get("/v1/batch-calls", params={"agent_id": 7}).json()
    assert [b["id"] for b in by_agent["data"]] == [4, 2] and by_agent["total"] == 2
    assert client.get("/v1/batch-calls", params={"limit": 101}).status_code == 400
    assert client.get("/v1/batch-calls/3").json()["data"]["name"] == "Campaign 2"


def test_unknown_batches_and_agents_are_not_found(client: httpx.Client) -> None:
    for path in ("/v1/batch-calls/99", "/v1/batch-calls/99/metrics"):
        response = client.get(path)
        assert response.status_code == 404 and response.json()["error"]["type"] == "not_found"
    assert create(client, phones_csv(1), agent_id=0).status_code == 404
    response = client.get("/v1/batch-calls/abc")
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request"


def test_keys_are_namespaces_with_their_own_ids(client: httpx.Client, server: LiveServer) -> None:
    create(client, phones_csv(1))
    with httpx.Client(base_url=server.base_url("formant"), headers={"Authorization": "Bearer other"}) as other:
        assert other.get("/v1/batch-calls/1").status_code == 404
        assert create(other, phones_csv(1)).json()["data"]["id"] == 1


def test_rate_limit_headers_on_every_response(client: httpx.Client, server: LiveServer) -> None:
    answers = [client.get("/v1/batch-calls"), client.get("/v1/batch-calls/42"), httpx.get(server.base_url("formant") + "/v1/batch-calls")]
    for response in answers:
        assert int(response.headers["X-RateLimit-Limit"]) == 50
        reset = datetime.datetime.fromisoformat(response.headers["X-RateLimit-Reset"])
        assert reset.tzinfo is not None and reset.timestamp() > server.engine.now() and reset.second == 0
    assert int(answers[1].headers["X-RateLimit-Remaining"]) == int(answers[0].headers["X-RateLimit-Remaining"]) - 1


def test_missing_or_wrong_key_is_authentication_error() -> None:
    with LiveServer(Settings(response_validation="strict", api_keys={"formant": ("good",)})) as server:
        base = server.base_url("formant")
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            response = httpx.get(base + "/v1/batch-calls/1/metrics", headers=headers)
            assert response.status_code == 401 and response.json()["error"]["type"] == "authentication_error"
        assert httpx.get(base + "/v1/batch-calls", headers={"Authorization": "Bearer good"}).status_code == 200
        assert list(server.engine.violations) == []


def test_scenarios_choose_the_outcomes(client: httpx.Client, server: LiveServer) -> None:
    server.engine.scenarios["always_busy"] = {"outcomes": {"busy": 1}, "max_attempts": 2}
    batch_id = create(client, phones_csv(4), **{"X-Mock-Scenario": "always_busy"}).json()["data"]["id"]
    server.engine.clock.advance(DURATIONS.validating + DURATIONS.call)
    assert metrics(client, batch_id)["pending_retry_count"] == 4
    server.engine.clock.advance(DURATIONS.retry_delay + DURATIONS.call)
    done = metrics(client, batch_id)
    assert (done["busy_count"], done["total_processed"], done["success_rate"], done["avg_duration_seconds"]) == (4, 4, 0.0, 0.0)
    response = create(client, phones_csv(1), **{"X-Mock-Scenario": "unheard_of"})
    assert response.status_code == 400 and "unheard_of" in response.json()["error"]["message"]


def test_admin_lists_formant_batches(client: httpx.Client, server: LiveServer) -> None:
    create(client, phones_csv(2))
    rows = httpx.get(server.url + "/_mock/batches", params={"provider": "formant"}).json()["data"]
    assert [(r["id"], r["status"], r["total_recipients"]) for r in rows] == [(1, "pending", 2)]


def test_success_rate_as_a_fraction_of_processed_by_setting() -> None:
    """formant_success_rate: fraction_of_processed, the seed's scale (the default is the guide's percentage)."""
    settings = Settings(response_validation="strict", clock_speed=0.0, formant_success_rate="fraction_of_processed")
    with LiveServer(settings) as server, httpx.Client(base_url=server.base_url("formant"), headers={"Authorization": "Bearer k"}) as client:
        batch_id = create(client, phones_csv(12)).json()["data"]["id"]
        server.engine.clock.advance(600)
        data = metrics(client, batch_id)
        assert data["total_processed"] == 12 and data["success_rate"] == data["success_count"] / 12
        assert 0 < data["success_rate"] <= 1 and server.engine.violations == []
