"""The engine's registries: each owns its data and its lock; nothing outside them assigns to what they hold.

- ``Journal``: the calls answered, bounded, O(1) per record.
- ``Violations``: responses the fake sent that its own spec does not allow.
- ``ScenarioBook``: user scenarios by name, the server-wide default, and the one rule that resolves a name.
- ``FaultRules``: the active fault rules, their ids and counters, and which of them hit a call.
- ``Hooks``: callables run at a moment (a backend created, a reset finished).
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, replace
from typing import Any, Generic, Protocol, TypeVar

from .errors import InvalidRequest

T = TypeVar("T")


@dataclass(frozen=True)
class Violation:
    """A response the fake sent that its own spec does not allow."""

    provider: str
    operation: str
    status: int
    problems: tuple[str, ...]


@dataclass(frozen=True)
class JournalEntry:
    at: float
    provider: str
    operation: str | None
    method: str
    path: str
    query: str
    status: int  # 0: no response (a fault dropped the connection)
    namespace: str | None
    fault: str | None = None  # the id of the fault that answered instead of the handler
    source: str | None = None  # where the answer came from when not the simulation: "replay:<seq>" (server/replay.py)


class _Log(Generic[T]):
    """An append-only, bounded log, safe across threads; iterating gives a copy, oldest first."""

    def __init__(self, limit: int) -> None:
        self._items: deque[T] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def record(self, item: T) -> None:
        self._items.append(item)  # deque.append is atomic

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __iter__(self) -> Iterator[T]:
        with self._lock:
            return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        """Compares as the list of its items (``engine.violations == []``)."""
        if isinstance(other, _Log):
            return list(self) == list(other)
        return isinstance(other, list) and list(self) == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"


class Journal(_Log[JournalEntry]):
    """The last ``limit`` calls the fake answered (or dropped)."""

    def __init__(self, limit: int = 10_000) -> None:
        super().__init__(limit)


class Violations(_Log[Violation]):
    def __init__(self, limit: int = 10_000) -> None:
        super().__init__(limit)


@dataclass(frozen=True)
class Choice:
    """The scenario a request gets: its name (None: the default behaviour) and whether the request asked for it."""

    name: str | None
    explicit: bool


class ScenarioBook(MutableMapping[str, dict[str, Any]]):
    """User scenarios by name (from a scenario file, a marker or the admin API) and the server-wide default.

    A provider resolves a name with ``resolve_scenario`` (below), the one rule for every provider.
    """

    def __init__(self) -> None:
        self._user: dict[str, dict[str, Any]] = {}
        self._default: str | None = None
        self._lock = threading.RLock()

    # -- the user scenarios, as a mapping ----------------------------------------------------------------
    def __getitem__(self, name: str) -> dict[str, Any]:
        return self._user[name]

    def __setitem__(self, name: str, scenario: dict[str, Any]) -> None:
        with self._lock:
            self._user[name] = scenario

    def __delitem__(self, name: str) -> None:
        with self._lock:
            del self._user[name]
            if self._default == name:
                self._default = None

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._user))

    def __len__(self) -> int:
        return len(self._user)

    @property
    def default(self) -> str | None:
        return self._default

    @default.setter
    def default(self, name: str | None) -> None:
        with self._lock:
            self._default = name

    def replace_all(self, scenarios: Mapping[str, dict[str, Any]], default: str | None) -> None:
        with self._lock:
            self._user = copy.deepcopy(dict(scenarios))
            self._default = default

    def state(self) -> tuple[dict[str, dict[str, Any]], str | None]:
        with self._lock:
            return copy.deepcopy(self._user), self._default

    # -- the one resolution rule -------------------------------------------------------------------------
    def choose(self, asked: str | None) -> Choice:
        """What a request gets: the scenario it names, else the server default."""
        return Choice(asked, True) if asked else Choice(self._default, False)

    def resolve(self, choice: Choice, builtin: Mapping[str, dict[str, Any]], param: str | None = None) -> tuple[str | None, dict[str, Any]]:
        with self._lock:
            user = dict(self._user)
        return resolve_scenario(choice.name, user, builtin, choice.explicit, param)


def resolve_scenario(
    name: str | None, user: Mapping[str, dict[str, Any]], builtin: Mapping[str, dict[str, Any]], explicit: bool = True, param: str | None = None
) -> tuple[str | None, dict[str, Any]]:
    """The one rule every provider resolves a scenario name with: ``(name, scenario)``, or ``(None, {})`` for the
    provider's default behaviour. A user scenario wins over a built-in one of the same name; an unknown name the
    request asked for (``explicit``) is a 400; an unknown server default (shared by every provider, it may name
    another provider's scenario) is the default."""
    if not name:
        return None, {}
    scenario = user.get(name)
    if scenario is None:
        scenario = builtin.get(name)
    if scenario is None:
        if explicit:
            known = ", ".join(sorted({*builtin, *user}))
            raise InvalidRequest(f"Unknown mock scenario {name!r}; known scenarios: {known}.", param=param)
        return None, {}
    if not isinstance(scenario, dict):
        raise InvalidRequest(f"Mock scenario {name!r} must be a mapping.", param=param)
    return name, scenario


def resolve_or_default(
    name: str | None, user: Mapping[str, dict[str, Any]], builtin: Mapping[str, dict[str, Any]], explicit: bool = True
) -> tuple[str, dict[str, Any]]:
    """``resolve_scenario``, where the provider's default behaviour is its built-in scenario ``"default"``: the
    name and the scenario a plan is built from, always."""
    found, scenario = resolve_scenario(name, user, builtin, explicit)
    if found is None:
        return "default", builtin["default"]
    return found, scenario


class Rule(Protocol):
    """What ``FaultRules`` needs of a fault (``mockserver.config.faults.Fault``)."""

    id: str
    drop: bool
    status: int | None

    def matches(self, provider: str, operation: str) -> bool: ...
    def fires(self, seed: int) -> bool: ...
    def fresh(self) -> Any: ...


R = TypeVar("R", bound=Rule)


class FaultRules(Generic[R]):
    """The active fault rules, in order, with ids fault_1, fault_2 ... and their counters."""

    def __init__(self) -> None:
        self._rules: list[R] = []
        self._lock = threading.Lock()

    def add(self, rules: list[R]) -> list[R]:
        """Install fresh copies of ``rules`` after the active ones; returns them with their ids."""
        with self._lock:
            taken = [int(r.id.split("_")[-1]) for r in self._rules if r.id.split("_")[-1].isdigit()]
            start = max(taken, default=0)
            added = [replace(r.fresh(), id=f"fault_{start + i}") for i, r in enumerate(rules, start=1)]
            self._rules.extend(added)
        return added

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            kept = [r for r in self._rules if r.id != rule_id]
            found = len(kept) != len(self._rules)
            self._rules = kept
        return found

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def pick(self, provider: str, operation: str, seed: int) -> list[R]:
        """The rules that hit this call, in order: latency-only rules add their delays and let the call go on;
        the first that answers (a status or a drop) ends the list, and the rules after it do not see the call."""
        if not self._rules:
            return []
        hit: list[R] = []
        with self._lock:
            for rule in self._rules:
                if rule.matches(provider, operation) and rule.fires(seed):
                    hit.append(rule)
                    if rule.drop or rule.status is not None:
                        break
        return hit

    def state(self) -> list[R]:
        with self._lock:
            return copy.deepcopy(self._rules)

    def put_back(self, rules: list[R]) -> None:
        with self._lock:
            self._rules = copy.deepcopy(rules)

    def __iter__(self) -> Iterator[R]:
        with self._lock:
            return iter(list(self._rules))

    def __len__(self) -> int:
        return len(self._rules)

    def __eq__(self, other: object) -> bool:
        """Compares as the list of its rules (``engine.faults == []``)."""
        return isinstance(other, list) and list(self) == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FaultRules({list(self)!r})"


class Hooks(Generic[T]):
    """Callables run at one moment, in the order they were added."""

    def __init__(self) -> None:
        self._hooks: list[T] = []
        self._lock = threading.Lock()

    def add(self, hook: T) -> None:
        with self._lock:
            if hook not in self._hooks:
                self._hooks.append(hook)

    def remove(self, hook: T) -> None:
        with self._lock:
            if hook in self._hooks:
                self._hooks.remove(hook)

    def set(self, hooks: list[T]) -> None:
        with self._lock:
            self._hooks = list(hooks)

    def __iter__(self) -> Iterator[T]:
        with self._lock:
            return iter(list(self._hooks))

    def __contains__(self, hook: object) -> bool:
        return hook in self._hooks

    def __len__(self) -> int:
        return len(self._hooks)


Seeder = Callable[[str, str, Any], None]
