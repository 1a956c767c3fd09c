"""``filter_criteria`` of ``POST /v3/list-calls``, evaluated on a rendered call (SDK retell/types/call_list_params.py).

Every key the SDK's ``FilterCriteria`` has is either evaluated here or refused with the reason the fake cannot
answer it (``REFUSED``): a filter on something the fake's calls never carry would silently match nothing, which
a test could not tell from "no such call". All conditions are connected by AND; ``agent`` entries by OR."""

from __future__ import annotations

from typing import Any

from ...core.errors import InvalidRequest

STRING_FILTERS = ("batch_call_id", "call_id", "from_number", "to_number")
ENUM_FILTERS = ("call_status", "call_type", "direction", "disconnection_reason", "agent_tag")
NUMBER_FILTERS = ("start_timestamp", "end_timestamp", "duration_ms")
# lists of {key, type, op, value}: each filter names a top-level key of the call's field
KEYED_FILTERS = {"metadata": "metadata", "dynamic_variables": "retell_llm_dynamic_variables"}
SUPPORTED = frozenset({*STRING_FILTERS, *ENUM_FILTERS, *NUMBER_FILTERS, *KEYED_FILTERS, "agent"})

_NO_ANALYSIS = "the fake runs no post-call analysis (its calls have no call_analysis)"
REFUSED = {
    "call_successful": _NO_ANALYSIS,
    "in_voicemail": _NO_ANALYSIS,
    "user_sentiment": _NO_ANALYSIS,
    "custom_analysis_data": _NO_ANALYSIS,
    "combined_cost": "the fake's calls carry no cost (call_cost)",
    "e2e_latency_p50": "the fake's calls carry no latency measurements",
    "tool_calls": "the fake's calls make no tool calls",
    "custom_attributes": "organisation-level custom attributes are not simulated",
    "data_storage_setting": "the fake's calls carry no data_storage_setting",
}

KEYED_OPS = {
    "string": ("eq", "ne", "sw", "ew", "co"),
    "number": ("eq", "ne", "gt", "ge", "lt", "le"),
    "boolean": ("eq",),
    "range": ("bt",),
    "enum": ("in",),
    "present": ("pr", "np"),
}


def check(criteria: dict[str, Any]) -> None:
    """A 400 (Retell's envelope) for a key the fake does not evaluate or a keyed filter that cannot be evaluated."""
    for key in sorted(criteria):
        if key in REFUSED:
            raise InvalidRequest(f"filter_criteria.{key} is not simulated by the mock server: {REFUSED[key]}.", param=f"filter_criteria.{key}")
        if key not in SUPPORTED:
            raise InvalidRequest(
                f"filter_criteria.{key} is not a call filter (supported: {', '.join(sorted(SUPPORTED))}).", param=f"filter_criteria.{key}"
            )
    for name in KEYED_FILTERS:
        for i, rule in enumerate(criteria.get(name) or []):
            where = f"filter_criteria.{name}[{i}]"
            kind, op = rule.get("type"), rule.get("op")
            if not isinstance(rule.get("key"), str) or not rule["key"]:
                raise InvalidRequest(f"{where}.key must name the {name.replace('_', ' ')} key to filter on.", param=f"{where}.key")
            if op not in KEYED_OPS.get(kind, ()):
                raise InvalidRequest(f"{where}: op {op!r} does not go with type {kind!r}.", param=f"{where}.op")
            if kind != "present" and not _value_fits(kind, rule.get("value")):
                raise InvalidRequest(f"{where}.value does not fit type {kind!r}.", param=f"{where}.value")


def _value_fits(kind: str, value: Any) -> bool:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "number":
        return number
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "range":
        return isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)  # enum


def matches(call: dict[str, Any], criteria: dict[str, Any]) -> bool:
    for key, rule in criteria.items():
        if key == "agent":
            if rule and not any(
                call["agent_id"] == a["agent_id"] and (not a.get("version") or call["agent_version"] in a["version"]) for a in rule
            ):
                return False
            continue
        if key in KEYED_FILTERS:
            values = call.get(KEYED_FILTERS[key]) or {}
            if not all(_keyed_matches(values, r) for r in rule or []):
                return False
            continue
        value = call.get(key)
        if key in STRING_FILTERS and not string_matches(value, rule):
            return False
        if key in ENUM_FILTERS and value not in rule["value"]:
            return False
        if key in NUMBER_FILTERS and not number_matches(value, rule):
            return False
    return True


def _keyed_matches(values: dict[str, Any], rule: dict[str, Any]) -> bool:
    """One metadata / dynamic-variable filter. Dynamic variables are strings on Retell's calls, so a number,
    range or boolean filter compares the string's number (``"42"``) or word (``"true"``)."""
    kind, present = rule["type"], bool(rule["key"] in values and values[rule["key"]] not in (None, ""))
    value = values.get(rule["key"])
    if kind == "present":
        return present if rule["op"] == "pr" else not present
    if not present:
        return bool(kind == "string" and rule["op"] == "ne")  # a missing key equals no string
    if kind == "string":
        return string_matches(value, rule)
    if kind == "enum":
        return str(value) in rule["value"]
    if kind == "boolean":
        truth = value if isinstance(value, bool) else {"true": True, "false": False}.get(str(value).strip().lower())
        return truth is rule["value"]
    return number_matches(_number(value), rule)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(str(value))
    except ValueError:
        return None


def string_matches(value: Any, rule: dict[str, Any]) -> bool:
    text, wanted = "" if value is None else str(value), rule["value"]
    op = rule["op"]
    return bool({
        "eq": text == wanted,
        "ne": text != wanted,
        "sw": text.startswith(wanted),
        "ew": text.endswith(wanted),
        "co": wanted in text,
    }[op])


def number_matches(value: Any, rule: dict[str, Any]) -> bool:
    if value is None:
        return False
    if rule["op"] == "bt":
        low, high = rule["value"]
        return bool(low <= value <= high)
    wanted = rule["value"]
    return bool({
        "eq": value == wanted,
        "ne": value != wanted,
        "gt": value > wanted,
        "ge": value >= wanted,
        "lt": value < wanted,
        "le": value <= wanted,
    }[rule["op"]])
