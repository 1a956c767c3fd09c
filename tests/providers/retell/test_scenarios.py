"""Scenario lookup and validation for Retell batch tests."""

from __future__ import annotations

import pytest

from mockserver.core.errors import InvalidRequest
from mockserver.providers.retell.scenarios import DEFAULT_MIX, plan_for


def test_no_name_is_the_default_mix() -> None:
    plan = plan_for(None, {})
    assert plan.scenario == "default" and dict(plan.mix) == pytest.approx(DEFAULT_MIX)


def test_user_scenarios_win_and_are_normalised() -> None:
    plan = plan_for("all_pass", {"all_pass": {"outcomes": {"fail": 3, "error": 1}}})
    assert dict(plan.mix) == {"pass": 0.0, "fail": 0.75, "error": 0.25}
    assert plan.pick(0.0) == "fail" and plan.pick(0.99) == "error"


def test_unknown_names_are_400_only_when_asked_for() -> None:
    with pytest.raises(InvalidRequest, match="Unknown mock scenario 'nope'"):
        plan_for("nope", {})
    assert plan_for("partial_failure", {}, explicit=False).scenario == "default"  # another provider's server default


@pytest.mark.parametrize(
    "outcomes, message",
    [({"pass": -1}, "must be a number >= 0"), ({"maybe": 1}, "unknown outcomes"), ({"pass": 0}, "positive"), ([1], "mapping")],
)
def test_bad_scenarios_are_400(outcomes: object, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        plan_for("custom", {"custom": {"outcomes": outcomes}})


def test_test_run_comes_from_the_scenario() -> None:
    assert plan_for("slow", {"slow": {"test_run": 60}}).test_run == 60.0
    assert plan_for("stall", {}).test_run == 3_600.0
    assert plan_for("stuck", {"stuck": {"test_run": "never"}}).test_run == float("inf")
    with pytest.raises(InvalidRequest, match="'test_run'"):
        plan_for("bad", {"bad": {"test_run": True}})
