"""The pytest plugin, driven through pytester: a new user's test file with only mock_server, the marker
and the openai SDK; the marker's effects and their undoing; mock_app; the command-line options."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# the "Testing with pytest" example of the README, run as a user would run it
USER_TEST_FILE = r'''
import io
import json

import openai
import pytest
from openai import OpenAI

REQUESTS = "".join(
    json.dumps({"custom_id": f"q{i}", "method": "POST", "url": "/v1/chat/completions",
                "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Question {i}"}]}}) + "\n"
    for i in range(3)
)


def start_batch(client, **extra):
    upload = client.files.create(file=("requests.jsonl", io.BytesIO(REQUESTS.encode())), purpose="batch")
    return client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h", **extra)


def test_a_batch_completes_when_the_clock_moves(mock_server):
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="test-key")
    batch = start_batch(client)
    assert batch.status == "validating"
    mock_server.clock.advance(60)
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed"
    assert batch.request_counts.completed == 3
    lines = client.files.content(batch.output_file_id).text.splitlines()
    assert [json.loads(line)["custom_id"] for line in lines] == ["q0", "q1", "q2"]


@pytest.mark.mockserver(scenario="expire")
def test_a_batch_expires_and_its_error_file_says_why(mock_server):
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="test-key")
    batch = start_batch(client)
    mock_server.clock.advance(24 * 3600 + 1)
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "expired"
    errors = [json.loads(line) for line in client.files.content(batch.error_file_id).text.splitlines()]
    assert {e["error"]["code"] for e in errors} == {"batch_expired"}


@pytest.mark.mockserver(faults=[{"provider": "anyapi", "operation": "createBatch", "status": 429, "retry_after": 0.1, "times": 2}])
def test_the_sdk_retries_a_429_after_retry_after(mock_server):
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="test-key")  # max_retries=2
    batch = start_batch(client)
    assert batch.status == "validating"
    calls = mock_server.requests(operation="createBatch")
    assert [c.status for c in calls] == [429, 429, 200]


@pytest.mark.mockserver(faults=[{"provider": "anyapi", "operation": "createBatch", "status": 429, "should_retry": False}])
def test_x_should_retry_false_stops_the_sdk(mock_server):
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="test-key")
    with pytest.raises(openai.RateLimitError):
        start_batch(client)
    assert len(mock_server.requests(operation="createBatch")) == 1


@pytest.mark.mockserver(fixtures=["seed.yaml"])
def test_a_preloaded_batch_is_there_from_the_start(mock_server):
    client = OpenAI(base_url=mock_server.base_url("anyapi"), api_key="any-key")
    batch = client.batches.retrieve("batch_nightly")
    assert batch.status == "completed"
    assert (batch.request_counts.completed, batch.request_counts.failed) == (9, 1)
    assert len(client.files.content(batch.output_file_id).text.splitlines()) == 9
'''

SEED_FIXTURE = '''
fixtures:
  - provider: anyapi
    kind: batch
    data:
      id: batch_nightly
      status: completed
      request_counts: {total: 10, completed: 9, failed: 1}
'''


def test_a_user_test_file_drives_the_openai_sdk_through_the_fixture(pytester: pytest.Pytester) -> None:
    """Complete after clock.advance, force an expired batch and read its error file, a 429 with Retry-After
    retried by the SDK (counted in the journal), x-should-retry: false obeyed, a preloaded fixture."""
    pytester.makepyfile(test_batches_example=USER_TEST_FILE)
    pytester.makefile(".yaml", seed=SEED_FIXTURE)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_the_marker_is_documented_by_pytest_markers(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.mockserver(scenario=None, seed=None, clock_speed=None, faults=[], fixtures=[]*"])


def test_the_options_are_documented_by_pytest_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--mockserver-config=FILE*", "*--mockserver-seed=N*", "*--mockserver-clock-speed=X*", "*--mockserver-scenario=NAME*"])


def test_marker_settings_are_undone_after_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx, pytest

        def create(mock_server):
            return httpx.get(mock_server.base_url("anyapi") + "/batches", headers={"Authorization": "Bearer k"})

        @pytest.mark.mockserver(scenario="stall", seed=7, clock_speed=2.5, faults=[{"operation": "listBatches", "status": 503}])
        def test_first(mock_server):
            assert mock_server.engine.scenarios.default == "stall"
            assert mock_server.engine.settings.seed == 7
            assert mock_server.clock.speed == 2.5
            assert create(mock_server).status_code == 503

        def test_second(mock_server):
            assert mock_server.engine.scenarios.default is None
            assert mock_server.engine.settings.seed == 0
            assert mock_server.clock.speed == 0
            assert list(mock_server.engine.faults) == []
            assert create(mock_server).status_code == 200
            assert mock_server.requests() and mock_server.requests()[0].fault is None
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_state_does_not_leak_between_tests_and_reset_empties_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import io, json
        from openai import OpenAI

        LINE = json.dumps({"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}}) + "\\n"

        def test_one(mock_server):
            client = OpenAI(base_url=mock_server.base_url("portkey"), api_key="k", default_headers={"x-portkey-api-key": "k", "x-portkey-provider": "openai"})
            client.files.create(file=("a.jsonl", io.BytesIO(LINE.encode())), purpose="batch")
            assert len(client.files.list().data) == 1
            mock_server.reset()
            assert client.files.list().data == []
            client.files.create(file=("a.jsonl", io.BytesIO(LINE.encode())), purpose="batch")

        def test_two(mock_server):
            client = OpenAI(base_url=mock_server.base_url("portkey"), api_key="k", default_headers={"x-portkey-api-key": "k", "x-portkey-provider": "openai"})
            assert client.files.list().data == []
            assert mock_server.clock.now() == mock_server.clock.now()  # frozen by default
            before = mock_server.clock.now()
            assert mock_server.clock.advance(30) == before + 30
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_mock_app_serves_the_same_fake_in_process(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import anyio, httpx, pytest

        def get(app, path):
            async def go():
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://mockserver/anyapi/v1") as client:
                    return await client.get(path, headers={"Authorization": "Bearer k"})
            return anyio.run(go)

        @pytest.mark.mockserver(fixtures=[{"provider": "anyapi", "kind": "batch", "data": {"id": "batch_1", "status": "in_progress"}}])
        def test_in_process(mock_app):
            assert get(mock_app, "/batches/batch_1").json()["status"] == "in_progress"
            mock_app.state.engine.clock.advance(10)
            assert get(mock_app, "/batches/batch_1").json()["status"] == "completed"

        def test_the_fixture_was_for_one_test_only(mock_app):
            assert get(mock_app, "/batches/batch_1").status_code == 404
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_command_line_options_set_the_session_defaults(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".yaml",
        scenarios="scenarios:\n  everything_fails:\n    line_failure_rate: 1\nfaults:\n  - {provider: anyapi, operation: listBatches, status: 500, times: 1}\n",
        config="response_validation: strict\nclock_speed: 0\n",
    )
    pytester.makepyfile(
        """
        def test_defaults(mock_server):
            engine = mock_server.engine
            assert engine.settings.seed == 42
            assert mock_server.clock.speed == 3.0
            assert engine.scenarios.default == "everything_fails"
            assert "everything_fails" in engine.scenarios
            assert [f.status for f in list(engine.faults)] == [500]
            assert engine.settings.response_validation == "strict"
        """
    )
    result = pytester.runpytest(
        "--mockserver-seed", "42", "--mockserver-clock-speed", "3", "--mockserver-scenario", "everything_fails",
        "--mockserver-config", "config.yaml", "--mockserver-scenarios", "scenarios.yaml",
    )
    result.assert_outcomes(passed=1)


def test_a_bad_scenario_file_on_the_command_line_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", bad="scenarios:\n  slow:\n    line_failure_rate: 2\n")
    pytester.makepyfile("def test_x(mock_server):\n    pass\n")
    result = pytester.runpytest("--mockserver-scenarios", "bad.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "bad.yaml, line 3, key 'scenarios.slow.line_failure_rate': expected a number between 0 and 1, got 2" in result.stderr.str()


def test_a_bad_marker_fails_the_test_setup_with_a_clear_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_markers="""
        import pytest

        @pytest.mark.mockserver(faults=[{"provider": "anyapi", "operation": "createBatch", "status": 418}])
        def test_teapot(mock_server):
            pass

        @pytest.mark.mockserver(scenario="no_such_scenario")
        def test_unknown(mock_server):
            pass

        @pytest.mark.mockserver(faults=[{"provider": "anyapi", "operation": "makeCoffee", "status": 500}])
        def test_operation(mock_server):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=3)
    out = result.stdout.str()
    assert "@pytest.mark.mockserver on test_markers.py::test_teapot, key 'faults[0].status': expected one of 429, 500, 502, 503, got 418" in out
    assert "unknown scenario 'no_such_scenario' (known: " in out
    assert "key 'faults[0].operation': expected an operationId of anyapi or '*' (cancelBatch, createBatch," in out
    assert "got 'makeCoffee'" in out
    assert "During handling" not in out
