"""The outbox as plain data: which deliveries an event makes, what is due when, and the retry schedule."""

from __future__ import annotations

from mockserver.core.outbox import Attempt, Endpoint, Event, Outbox, RetryPolicy, Target, event_id

POLICY = RetryPolicy(delays=(30.0, 300.0))


def _event(type_: str = "call.completed", moment: float = 100.0, subject: str = "1", target: Target | None = None, rank: int = 0) -> Event:
    return Event(event_id("evt_", type_, subject, moment), type_, "prov", "key", subject, moment, {"x": 1}, target, rank)


def _attempt(delivery, status: int | None, now: float, **kw) -> Attempt:  # type: ignore[no-untyped-def]
    return Attempt(len(delivery.attempts) + 1, delivery.next_at, now, 0.0, status, **kw)


def test_event_ids_are_derived_not_drawn() -> None:
    assert event_id("evt_", 0, "batch_1", "completed") == event_id("evt_", 0, "batch_1", "completed")
    assert event_id("evt_", 0, "batch_1", "completed") != event_id("evt_", 1, "batch_1", "completed")


def test_an_event_goes_once_to_each_matching_account_endpoint_registered_before_it() -> None:
    outbox = Outbox()
    outbox.add_endpoint(Endpoint("we_1", "prov", "key", "http://a/", "s", None, since=0.0))
    outbox.add_endpoint(Endpoint("we_2", "prov", "key", "http://b/", "s", ("call.failed",), since=0.0))
    outbox.add_endpoint(Endpoint("we_3", "prov", "other-key", "http://c/", "s", None, since=0.0))
    outbox.add_endpoint(Endpoint("we_4", "prov", "key", "http://d/", "s", None, since=500.0))  # registered later
    event = _event()
    made = outbox.offer(event, POLICY.max_attempts)
    assert [d.url for d in made] == ["http://a/"]
    assert outbox.offer(event, POLICY.max_attempts) == []  # offered again (every tick): no second delivery


def test_an_objects_own_target_filters_by_its_events() -> None:
    outbox = Outbox()
    target = Target("http://hook/", "secret", ("batch.completed",))
    assert outbox.offer(_event("batch.progress", target=target), 5) == []
    assert [d.url for d in outbox.offer(_event("batch.completed", target=target), 5)] == ["http://hook/"]


def test_due_in_order_of_moment_then_rank_and_nothing_before_its_moment() -> None:
    outbox = Outbox()
    target = Target("http://hook/")
    late = outbox.offer(_event("b", 200.0, target=target), 3)[0]
    second = outbox.offer(_event("c", 100.0, subject="2", target=target, rank=1), 3)[0]
    first = outbox.offer(_event("a", 100.0, subject="3", target=target), 3)[0]
    assert outbox.due(99.0) == []
    assert outbox.due(150.0) == [first, second]
    assert outbox.due(200.0) == [first, second, late]
    assert outbox.next_at() == 100.0


def test_failures_are_retried_on_the_schedule_from_the_moment_each_attempt_was_due() -> None:
    outbox = Outbox()
    delivery = outbox.offer(_event(target=Target("http://hook/")), POLICY.max_attempts)[0]
    outbox.settle(delivery, _attempt(delivery, 500, 104.0), POLICY)
    assert (delivery.state, delivery.next_at) == ("pending", 130.0)  # due at 100, +30 s
    outbox.settle(delivery, _attempt(delivery, None, 131.0, error="refused"), POLICY)
    assert delivery.next_at == 430.0  # +300 s
    outbox.settle(delivery, _attempt(delivery, 503, 430.0), POLICY)
    assert (delivery.state, delivery.next_at) == ("failed", None)  # 3 attempts: given up
    assert [a.outcome for a in delivery.attempts] == ["scheduled_retry", "scheduled_retry", "failed_permanently"]


def test_a_rejection_that_is_not_retryable_ends_the_delivery() -> None:
    outbox = Outbox()
    delivery = outbox.offer(_event(target=Target("http://hook/")), POLICY.max_attempts)[0]
    outbox.settle(delivery, _attempt(delivery, 400, 100.0), POLICY)
    assert delivery.state == "failed"


def test_pause_holds_everything_and_redeliver_sends_one_more_attempt() -> None:
    outbox = Outbox()
    delivery = outbox.offer(_event(target=Target("http://hook/")), POLICY.max_attempts)[0]
    outbox.paused = True
    assert outbox.due(1e9) == [] and outbox.next_at() is None
    outbox.paused = False
    outbox.settle(delivery, _attempt(delivery, 200, 100.0), POLICY)
    assert delivery.state == "delivered" and outbox.due(1e9) == []
    outbox.redeliver(delivery.id, 900.0)
    assert outbox.due(900.0) == [delivery]
    outbox.settle(delivery, _attempt(delivery, 500, 900.0, manual=True), POLICY)
    assert delivery.state == "failed" and delivery.next_at is None  # a redelivery is one attempt, no schedule


def test_summary_counts_attempts_and_delivered_events() -> None:
    outbox = Outbox()
    delivery = outbox.offer(_event(target=Target("http://hook/")), POLICY.max_attempts)[0]
    outbox.settle(delivery, _attempt(delivery, 500, 100.0, error="HTTP 500"), POLICY)
    summary = outbox.summary("prov", "key", "1")
    assert summary["total_attempts"] == 1 and summary["pending_retries"] == 1 and summary["next_retry_at"] == 130.0
    assert summary["last_error_message"] == "HTTP 500" and summary["delivered_events"] == 0
    outbox.settle(delivery, _attempt(delivery, 204, 130.0), POLICY)
    summary = outbox.summary("prov", "key", "1")
    assert summary["delivered_event_types"] == ["call.completed"] and summary["pending_retries"] == 0
    assert summary["last_delivered_at"] == 130.0 and summary["last_response_status"] == 204


def test_faults_duplicate_a_number_of_deliveries_and_reverse_the_order() -> None:
    outbox = Outbox()
    target = Target("http://hook/")
    a = outbox.offer(_event("a", 1.0, subject="a", target=target), 3)[0]
    b = outbox.offer(_event("b", 2.0, subject="b", target=target), 3)[0]
    outbox.faults.duplicates, outbox.faults.reorder = 1, True
    assert outbox.due(5.0) == [b, a]
    assert outbox.take_duplicate() is True and outbox.take_duplicate() is False
    outbox.clear()
    assert outbox.deliveries == {} and outbox.faults.reorder is False
