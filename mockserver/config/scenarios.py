"""Scenario files: named overrides of what happens to a batch, a server-wide default, and faults.

Schema (every key optional)::

    default: <scenario name>            # the scenario of every job whose request names none
    scenarios:
      <name>:
        description: <text>
        durations:                       # simulated seconds; .inf (or "never") = never happens
          validating | in_progress | finalizing | cancelling: <seconds>   # OpenAI family (Anthropic: in_progress, cancelling)
          test_run | call | retry_delay: <seconds>                          # Retell, FormantAI
        line_failure_rate: <0..1>        # share of batch lines that fail
        validation_error: <code>         # the batch fails validation with this code
        cancel_race: <bool>              # a cancel arrives too late: cancelling -> completed
        outcomes: {pass, fail, error}    # Retell run outcomes, as weights
        outcomes: {success, not_success, failed, busy, no_answer, unreachable, socket_failure}  # FormantAI
        outcomes: {succeeded, errored}   # Anthropic request results, as weights
        max_attempts: <int >= 1>         # FormantAI call attempts
        call_outcomes: {ended, not_connected, error}  # Retell batch calls, as weights
        concurrency: <int >= 1>          # Retell concurrent-call limit (default 20)
    faults: [<fault>, ...]               # see mockserver.config.faults

A scenario is stored in ``engine.scenarios`` flat (durations lifted to the top, outcome weights normalised
to shares that add up to 1); each provider reads the keys it knows.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.engine import Engine
from .documents import Document, DocumentError, Key, integer, load_document, mapping, number, string
from .faults import Fault, parse_faults
from .webhooks import EndpointSpec, parse_endpoints

DURATIONS = ("validating", "in_progress", "finalizing", "cancelling", "test_run", "call", "retry_delay")
OUTCOMES = {
    "Retell": ("pass", "fail", "error"),
    "FormantAI": ("success", "not_success", "failed", "busy", "no_answer", "unreachable", "socket_failure"),
    "Anthropic": ("succeeded", "errored"),
}
SCENARIO_KEYS = (
    "description", "durations", "line_failure_rate", "validation_error", "cancel_race", "outcomes", "max_attempts",
    "call_outcomes", "concurrency", "phaseo_status",
)
RETELL_CALL_OUTCOMES = ("ended", "not_connected", "error")
FILE_KEYS = ("default", "scenarios", "faults", "webhooks")

# each provider's module of built-in scenarios (a provider still being written may not have one yet)
_BUILTIN_MODULES = (
    "mockserver.providers.openai_family.scenarios",
    "mockserver.providers.retell.scenarios",
    "mockserver.providers.formant.scenarios",
    "mockserver.providers.anthropic.scenarios",
)


def builtin_names() -> set[str]:
    names: set[str] = set()
    for module_name in _BUILTIN_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        names |= set(getattr(module, "BUILTIN", {}))
    return names


@dataclass
class ScenarioFile:
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    default: str | None = None
    faults: list[Fault] = field(default_factory=list)
    webhooks: list[EndpointSpec] = field(default_factory=list)  # account webhook endpoints (config/webhooks.py)


def parse_scenario(doc: Document, key: Key, value: Any) -> dict[str, Any]:
    data = mapping(doc, key, value, SCENARIO_KEYS)
    flat: dict[str, Any] = {}
    for name, item in data.items():
        here = (*key, name)
        if name == "description":
            flat[name] = string(doc, here, item)
        elif name == "durations":
            for phase, seconds in mapping(doc, here, item, DURATIONS).items():
                flat[phase] = number(doc, (*here, phase), seconds, inf=True)
        elif name == "line_failure_rate":
            flat[name] = number(doc, here, item, 0.0, 1.0)
        elif name == "validation_error":
            flat[name] = None if item is None else string(doc, here, item)
        elif name == "cancel_race":
            if not isinstance(item, bool):
                raise doc.error(here, "true or false", item)
            flat[name] = item
        elif name in ("max_attempts", "concurrency"):
            flat[name] = integer(doc, here, item, 1)
        elif name == "phaseo_status":  # Phaseo's batch status words for the batches of this scenario
            flat[name] = string(doc, here, item)
            if flat[name] not in ("documented", "upstream"):
                raise doc.error(here, "documented or upstream", item)
        elif name == "call_outcomes":
            flat[name] = _outcomes(doc, here, item, {"Retell batch calls": RETELL_CALL_OUTCOMES})
        elif name == "outcomes":
            flat[name] = _outcomes(doc, here, item)
    return flat


def _outcomes(doc: Document, key: Key, value: Any, families: dict[str, tuple[str, ...]] = OUTCOMES) -> dict[str, float]:
    weights = mapping(doc, key, value)
    family = next((names for names in families.values() if weights and set(weights) <= set(names)), None)
    if family is None:
        expected = "; ".join(f"{provider}: {', '.join(names)}" for provider, names in families.items())
        raise doc.error(key, f"outcome weights of one provider ({expected})", sorted(weights))
    shares = {name: number(doc, (*key, name), weights.get(name, 0)) for name in family}
    total = sum(shares.values())
    if total <= 0:
        raise doc.error(key, "at least one outcome with a weight > 0", weights)
    return {name: share / total for name, share in shares.items()}


def parse_scenario_file(doc: Document, known: set[str] | None = None) -> ScenarioFile:
    """Check and convert a scenario document; ``known`` are the names the default may also take."""
    data = {} if doc.data is None else mapping(doc, (), doc.data, FILE_KEYS)
    result = ScenarioFile()
    for name, item in mapping(doc, ("scenarios",), data.get("scenarios") or {}).items():
        result.scenarios[str(name)] = parse_scenario(doc, ("scenarios", name), item)
    if data.get("default") is not None:
        choices = builtin_names() | set(result.scenarios) | (known or set())
        default = data["default"]
        if default not in choices:
            raise doc.error(("default",), f"the name of a scenario ({', '.join(sorted(choices))})", default)
        result.default = default
    result.faults = parse_faults(doc, ("faults",), data.get("faults") or [])
    result.webhooks = parse_endpoints(doc, ("webhooks",), data.get("webhooks") or [])
    return result


def load_scenario_file(path: str | Path) -> ScenarioFile:
    return parse_scenario_file(load_document(path))


def check_scenario_name(engine: Engine, name: str | None, source: str) -> str | None:
    """``name`` if a built-in or user scenario has it (None passes: no default)."""
    if name is None or name in engine.scenarios or name in builtin_names():
        return name
    known = ", ".join(sorted(builtin_names() | set(engine.scenarios)))
    raise DocumentError(f"{source}: unknown scenario {name!r} (known: {known})")


def describe(engine: Engine) -> dict[str, Any]:
    """What the admin API lists: the default, the built-in names and the user scenarios."""
    user, default = engine.scenarios.state()
    return {"default": default, "builtin": sorted(builtin_names()), "scenarios": user}
