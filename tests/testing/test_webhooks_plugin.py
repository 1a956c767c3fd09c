"""The webhook side of the pytest plugin, as a user runs it: ``webhook_receiver``, ``mock_server.webhooks``,
the marker's ``webhooks=`` and a scenario file's ``webhooks:``."""

from __future__ import annotations

import time

import httpx
import pytest

from mockserver.config.baseline import Baseline
from mockserver.core.engine import Engine
from mockserver.core.settings import ConfigError, Settings
from mockserver.providers.registry import PROVIDERS

pytest_plugins = ["pytester"]

# the README's "Webhooks" example, run as a user would run it
USER_TEST_FILE = r'''
import hashlib
import hmac

import httpx


def verify(secret, body, signature):
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def test_my_endpoint_gets_verified_call_events(mock_server, webhook_receiver):
    endpoint = mock_server.webhooks.register("formant", key="test-key", url=webhook_receiver.url)
    csv = "customer_phone,customer_name\n+919876500001,Ada\n"
    response = httpx.post(
        mock_server.base_url("formant") + "/v1/batch-call",
        headers={"Authorization": "Bearer test-key", "X-Mock-Scenario": "all_success"},
        data={"agent_id": "7", "name": "Follow ups"}, files={"file": ("contacts.csv", csv, "text/csv")},
    )
    assert response.status_code == 200
    assert webhook_receiver.requests == []  # the clock is frozen: nothing has happened yet
    mock_server.clock.advance(60)
    [hit] = webhook_receiver.wait_for(1)
    assert verify(endpoint.secret, hit.body, hit.headers["x-formantai-signature"])
    assert hit.json()["event_type"] == "call.completed"


def test_a_500_is_retried_30_simulated_seconds_later(mock_server, webhook_receiver):
    mock_server.webhooks.register("formant", key="test-key", url=webhook_receiver.url)
    webhook_receiver.fail(1, status=500)
    csv = "customer_phone\n+919876500001\n"
    httpx.post(
        mock_server.base_url("formant") + "/v1/batch-call", headers={"Authorization": "Bearer test-key"},
        data={"agent_id": "7", "name": "n"}, files={"file": ("c.csv", csv, "text/csv")},
    )
    mock_server.clock.advance(10)
    assert webhook_receiver.wait_for(1)[0].answered == 500
    mock_server.clock.advance(30)
    hits = webhook_receiver.wait_for(2)
    assert hits[1].answered == 200 and hits[1].json()["event_id"] == hits[0].json()["event_id"]
'''


def test_the_readme_receiver_example_runs_as_a_user_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_webhooks_example=USER_TEST_FILE)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_marker_endpoints_are_registered_for_the_test_and_kept_across_a_reset(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        HOOK = {"provider": "formant", "key": "k", "url": "http://127.0.0.1:9/hook", "secret": "s3cret"}

        @pytest.mark.mockserver(webhooks=[HOOK])
        def test_first(mock_server):
            [endpoint] = mock_server.engine.outbox.endpoints.values()
            assert (endpoint.url, endpoint.secret) == ("http://127.0.0.1:9/hook", "s3cret")
            mock_server.reset()
            assert len(mock_server.engine.outbox.endpoints) == 1

        def test_second(mock_server):
            assert mock_server.engine.outbox.endpoints == {}

        @pytest.mark.mockserver(webhooks=[{"provider": "phaseo", "key": "k", "url": "http://127.0.0.1:9/"}])
        def test_refused(mock_server):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*webhooks=...): phaseo endpoint*each batch is created with*"])


def test_a_scenario_file_registers_endpoints_on_every_reset(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "hooks.yaml"
    path.write_text("webhooks:\n  - provider: anyapi\n    key: sk-test\n    url: http://127.0.0.1:9/hook\n    events: [batch.completed]\n")
    engine = Engine(Settings(), {name: p.make_backend for name, p in PROVIDERS.items()})
    Baseline.load([path]).install(engine, PROVIDERS)
    [endpoint] = engine.outbox.endpoints.values()
    assert endpoint.secret.startswith("whsec_") and endpoint.events == ("batch.completed",)
    engine.reset()
    assert [e.url for e in engine.outbox.endpoints.values()] == ["http://127.0.0.1:9/hook"]


def test_a_scenario_file_with_an_impossible_endpoint_names_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "hooks.yaml"
    path.write_text("webhooks:\n  - provider: retell\n    key: k\n    url: http://127.0.0.1:9/\n")
    engine = Engine(Settings(), {name: p.make_backend for name, p in PROVIDERS.items()})
    with pytest.raises(ConfigError, match="retell endpoint http://127.0.0.1:9/: retell documents no webhooks"):
        Baseline.load([path]).install(engine, PROVIDERS)
    bad = tmp_path / "bad.yaml"
    bad.write_text("webhooks:\n  - provider: formant\n    url: http://x/\n")
    with pytest.raises(ConfigError, match=r"bad.yaml, line 2.*'key'"):
        Baseline.load([bad])


def test_harness_webhooks_pause_resume_redeliver_and_faults(mock_server, webhook_receiver) -> None:  # type: ignore[no-untyped-def]
    mock_server.webhooks.register("formant", key="test-key", url=webhook_receiver.url)
    mock_server.webhooks.pause()

    def batch(rows: int) -> None:
        httpx.post(
            mock_server.base_url("formant") + "/v1/batch-call", headers={"Authorization": "Bearer test-key", "X-Mock-Scenario": "all_success"},
            data={"agent_id": "7", "name": "n"}, files={"file": ("c.csv", "customer_phone\n" + "+919876500001\n" * rows, "text/csv")},
        )

    batch(1)
    mock_server.clock.advance(10)
    time.sleep(0.3)
    assert webhook_receiver.requests == []
    mock_server.webhooks.resume()
    [first] = webhook_receiver.wait_for(1)
    deadline = time.monotonic() + 3
    while not mock_server.webhooks.deliveries()[0].attempts and time.monotonic() < deadline:
        time.sleep(0.02)
    [delivery] = mock_server.webhooks.deliveries(provider="formant")
    mock_server.webhooks.redeliver(delivery.id)
    assert webhook_receiver.wait_for(2)[1].json()["event_id"] == first.json()["event_id"]
    mock_server.webhooks.faults(duplicates=1)
    batch(1)
    mock_server.clock.advance(10)
    hits = webhook_receiver.wait_for(4)
    assert hits[2].json()["event_id"] == hits[3].json()["event_id"] != first.json()["event_id"]
