"""Lifecycles as data: a transition table evaluated lazily when an object is read.

No thread, task or timer exists per object: ``advance(obj, now)`` replays every timed transition whose
moment has passed, entering each state at the moment it was due (not at the moment of the read), so
timestamps are the same whenever the object is looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar


class Stateful(Protocol):
    state: str
    entered_at: float


T = TypeVar("T", bound=Stateful)


def record(obj: Stateful, state: str, at: float) -> None:
    """What entering a state always does: the state, since when, and (objects that keep one) its moment."""
    obj.state = state
    obj.entered_at = at
    moments = getattr(obj, "moments", None)
    if moments is not None:
        moments[state] = at


class IllegalTransition(Exception):
    def __init__(self, lifecycle: str, source: str, target: str) -> None:
        super().__init__(f"{lifecycle}: no transition from {source!r} to {target!r}")
        self.source = source
        self.target = target


@dataclass(frozen=True)
class Timed(Generic[T]):
    """source -> target at the absolute time ``at(obj)`` returns (None: not scheduled)."""

    source: str
    target: str
    at: Callable[[T], float | None]


@dataclass(frozen=True)
class Event:
    """source -> target when something asks for it (a cancel request)."""

    name: str
    sources: frozenset[str]
    target: str


@dataclass
class Lifecycle(Generic[T]):
    name: str
    initial: str
    timed: list[Timed[T]]
    events: list[Event] = field(default_factory=list)
    terminal: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self._by_source: dict[str, list[Timed[T]]] = {}
        for t in self.timed:
            self._by_source.setdefault(t.source, []).append(t)

    def edges(self) -> set[tuple[str, str]]:
        """Every legal (from, to) pair: what a contract check may observe."""
        pairs = {(t.source, t.target) for t in self.timed}
        for e in self.events:
            pairs |= {(s, e.target) for s in e.sources}
        return pairs

    def states(self) -> set[str]:
        return {self.initial} | {s for pair in self.edges() for s in pair}

    def advance(self, obj: T, now: float, on_enter: Callable[[T, str, float], None]) -> None:
        while obj.state not in self.terminal:
            due: tuple[float, Timed[T]] | None = None
            for t in self._by_source.get(obj.state, ()):
                at = t.at(obj)
                if at is not None and at <= now and (due is None or at < due[0]):
                    due = (at, t)
            if due is None:
                return
            on_enter(obj, due[1].target, due[0])

    def fire(self, obj: T, event: str, now: float, on_enter: Callable[[T, str, float], None]) -> None:
        self.advance(obj, now, on_enter)
        for e in self.events:
            if e.name == event and obj.state in e.sources:
                on_enter(obj, e.target, now)
                return
        raise IllegalTransition(self.name, obj.state, event)

    def next_moment(self, obj: T) -> float | None:
        """When the object will next change state by itself (None: never, unless asked)."""
        moments = [m for t in self._by_source.get(obj.state, ()) if (m := t.at(obj)) is not None]
        return min(moments) if moments else None
