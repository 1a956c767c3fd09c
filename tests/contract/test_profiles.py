from __future__ import annotations

import pytest
import yaml

from mockserver.config.settings import PROVIDER_NAMES
from mockserver.contract.profiles import PROFILES, as_time, dig, get_profile
from mockserver.contract.profiles._openai import LIFECYCLE, LIFECYCLE_CANCEL_NOW, request_counts
from mockserver.contract.profiles.formant import metrics_add_up
from mockserver.contract.profiles.retell import batch_counts
from mockserver.spec.loader import specs_dir


def test_every_provider_and_every_spec_has_a_profile() -> None:
    assert set(PROVIDER_NAMES) <= set(PROFILES)
    assert {p.stem for p in specs_dir().glob("*.yaml")} <= {p.spec for p in PROFILES.values()}


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_a_profile_names_only_operations_of_its_spec(name: str) -> None:
    profile = get_profile(name)
    document = yaml.safe_load((specs_dir() / f"{profile.spec}.yaml").read_text())
    ids = {op["operationId"] for item in document["paths"].values() for op in item.values() if isinstance(op, dict)}
    named = {v.operation_id for r in profile.resources for v in r.views} | {p.operation_id for p in profile.pagination}
    named |= {r.retrieve[0] for r in profile.resources if r.retrieve}
    assert named <= ids, sorted(named - ids)
    assert profile.key_env and profile.create is not None


def test_keys_come_from_the_documented_variables() -> None:
    assert get_profile("phaseo").key_from_env({"AI_STATS_API_KEY": "b"}) == "b"
    assert get_profile("phaseo").key_from_env({"PHASEO_API_KEY": "a", "AI_STATS_API_KEY": "b"}) == "a"
    assert get_profile("retell").key_from_env({}) is None
    portkey = get_profile("portkey")
    headers = portkey.headers("pk", {"PORTKEY_VIRTUAL_KEY": "vk-real"})
    assert headers == {"x-portkey-api-key": "pk", "x-portkey-virtual-key": "vk-real"}
    assert portkey.secrets("pk", {"PORTKEY_VIRTUAL_KEY": "vk-real"}) == ["pk", "vk-real"]


def test_lifecycles_allow_skipped_states_but_not_going_back() -> None:
    assert LIFECYCLE.reachable("validating", "completed")
    assert not LIFECYCLE.reachable("in_progress", "validating")
    assert LIFECYCLE.reachable("validating", "cancelled")
    assert LIFECYCLE_CANCEL_NOW.reachable("in_progress", "cancelled") and LIFECYCLE.terminal == LIFECYCLE_CANCEL_NOW.terminal


def test_counters_that_must_add_up() -> None:
    assert request_counts({"status": "in_progress", "request_counts": {"total": 3, "completed": 1, "failed": 1}}) == []
    assert request_counts({"status": "completed", "request_counts": {"total": 3, "completed": 1, "failed": 1}})
    assert request_counts({"status": "in_progress", "request_counts": {"total": 1, "completed": 1, "failed": 1}})
    assert batch_counts({"status": "complete", "pass_count": 1, "fail_count": 0, "error_count": 1, "total_count": 2}) == []
    assert batch_counts({"status": "complete", "pass_count": 1, "fail_count": 0, "error_count": 0, "total_count": 2})
    good = {"completed_count": 2, "failed_count": 0, "busy_count": 1, "no_answer_count": 0, "unreachable_count": 0,
            "socket_failure_count": 0, "success_count": 1, "total_processed": 3, "success_rate": 0.333,
            "in_progress_count": 1, "pending_retry_count": 0}
    assert metrics_add_up(good) == []
    assert metrics_add_up({**good, "total_processed": 5})
    assert metrics_add_up({**good, "success_count": 3, "success_rate": 1.0})


def test_helpers() -> None:
    assert dig({"a": {"b": 1}}, "a.b") == 1 and dig({"a": 1}, "a.b") is None
    assert as_time(5) == 5.0 and as_time("2026-03-16T10:30:00Z") == as_time("2026-03-16T10:30:00+00:00") and as_time(None) is None
