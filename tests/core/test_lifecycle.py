from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from mockserver.core.lifecycle import Event, IllegalTransition, Lifecycle, Timed


@dataclass
class Job:
    state: str = "queued"
    entered_at: float = 0.0
    moments: dict[str, float] = field(default_factory=lambda: {"queued": 0.0})


def enter(job: Job, state: str, at: float) -> None:
    job.state, job.entered_at = state, at
    job.moments[state] = at


LIFE: Lifecycle[Job] = Lifecycle(
    name="test::job",
    initial="queued",
    timed=[
        Timed("queued", "running", lambda j: j.moments["queued"] + 5),
        Timed("running", "done", lambda j: j.moments["running"] + 10),
        Timed("running", "timed_out", lambda j: 12.0),
    ],
    events=[Event("stop", frozenset({"queued", "running"}), "stopped")],
    terminal=frozenset({"done", "timed_out", "stopped"}),
)


def test_states_are_entered_at_the_moment_they_were_due_not_when_read() -> None:
    job = Job()
    LIFE.advance(job, 4.9, enter)
    assert job.state == "queued"
    LIFE.advance(job, 1000, enter)  # read very late: earliest due transition wins at each step
    assert job.state == "timed_out"
    assert job.moments == {"queued": 0.0, "running": 5.0, "timed_out": 12.0}


def test_reading_often_or_once_gives_the_same_history() -> None:
    once, often = Job(), Job()
    LIFE.advance(once, 100, enter)
    for t in range(0, 101):
        LIFE.advance(often, t, enter)
    assert once.moments == often.moments


def test_events_only_from_their_sources_and_terminal_states_stay() -> None:
    job = Job()
    LIFE.fire(job, "stop", 7.0, enter)
    assert (job.state, job.moments["stopped"]) == ("stopped", 7.0)
    with pytest.raises(IllegalTransition):
        LIFE.fire(job, "stop", 8.0, enter)
    LIFE.advance(job, 10_000, enter)
    assert job.state == "stopped"


def test_edges_and_next_moment() -> None:
    assert ("queued", "stopped") in LIFE.edges() and ("done", "running") not in LIFE.edges()
    assert LIFE.next_moment(Job()) == 5.0
