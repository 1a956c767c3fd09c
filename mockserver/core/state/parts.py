"""The engine-wide parts a durable store keeps beside the backends: clock, id streams, scenarios, faults, and
the webhook outbox (endpoints, secrets, deliveries and their attempts)."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..clock import SimulatedClock
from ..ids import IdFactory
from ..outbox import Outbox
from ..registries import FaultRules, ScenarioBook
from ..store import Part


def durable_parts(clock: SimulatedClock, ids: IdFactory, scenarios: ScenarioBook, faults: FaultRules[Any], outbox: Outbox) -> list[Part]:
    def fault_rules() -> list[tuple[str, Any]]:
        # the rules, not their counters: after/every/times count the calls each process sees
        return [(rule.id, rule.fresh()) for rule in faults]

    def put_back_faults(rules: list[tuple[str, Any]]) -> None:
        faults.put_back([dataclasses.replace(rule, id=rule_id) for rule_id, rule in rules])

    return [
        Part("clock", clock.state, clock.load_state),
        Part("ids", ids.state, ids.load_state, mark=lambda: ids.draws),
        Part("scenarios", scenarios.state, lambda state: scenarios.replace_all(*state)),
        Part("faults", fault_rules, put_back_faults),
        Part("outbox", outbox.state, outbox.load_state, mark=outbox.mark),
    ]
