"""Scenario lookup and validation for FormantAI batch calls."""

from __future__ import annotations

import pytest

from mockserver.core.errors import InvalidRequest
from mockserver.providers.formant.scenarios import DEFAULT_MAX_ATTEMPTS, DEFAULT_MIX, plan_for


def test_default_is_mostly_success_with_retries() -> None:
    plan = plan_for(None, {})
    assert dict(plan.mix) == pytest.approx(DEFAULT_MIX) and plan.max_attempts == DEFAULT_MAX_ATTEMPTS > 1
    assert max(plan.mix, key=lambda pair: pair[1])[0] == "success"


def test_user_scenario_sets_outcomes_and_attempts() -> None:
    plan = plan_for("mine", {"mine": {"outcomes": {"no_answer": 1}, "max_attempts": 5}})
    assert plan.pick(0.5) == "no_answer" and plan.max_attempts == 5


def test_unknown_names_are_400_only_when_asked_for() -> None:
    with pytest.raises(InvalidRequest, match="Unknown mock scenario"):
        plan_for("nope", {})
    assert plan_for("partial_failure", {}, explicit=False).scenario == "default"  # an OpenAI-family name


@pytest.mark.parametrize(
    "scenario, message",
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": "2"}, "max_attempts"),
        ({"outcomes": {"answered": 1}}, "unknown outcomes"),
        ({"outcomes": {"success": float("nan")}}, "must be a number"),
    ],
)
def test_bad_scenarios_are_400(scenario: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        plan_for("custom", {"custom": scenario})


def test_durations_come_from_the_scenario() -> None:
    plan = plan_for("slow", {"slow": {"call": 30.0, "retry_delay": float("inf"), "validating": "never"}})
    assert (plan.call, plan.retry_delay, plan.validating) == (30.0, float("inf"), float("inf"))
    assert plan_for(None, {}).call is None  # the server's Durations
    with pytest.raises(InvalidRequest, match="'call' must be a number of seconds"):
        plan_for("bad", {"bad": {"call": -1}})
