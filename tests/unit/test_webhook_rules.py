"""When a delivery is tried again, given up, and its subscription disabled: pure rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from adapters.webhooks.port import Claimed, Event, Topic
from adapters.webhooks.rules import RetryPolicy, after_attempt, wait_before

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
POLICY = RetryPolicy(first_retry=timedelta(seconds=30), longest_wait=timedelta(hours=1), window=timedelta(hours=48))


def claimed(attempts: int = 0, occurred_at: datetime = T0, failing_since: datetime | None = None) -> Claimed:
    event = Event("evt_1", 1, Topic.ORDERS_CREATE, {}, occurred_at)
    return Claimed(delivery_id=1, claim="c", attempts=attempts, event=event, shop_handle="s", url="http://x",
                   secret="plain:s", subscription_id=1, failing_since=failing_since)


def test_waits_double_from_the_first_retry_to_an_hour_with_jitter_around_them():
    exact = [wait_before(n, POLICY, jitter=lambda: 0.5) for n in (1, 2, 3, 8, 30)]
    assert exact == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120), timedelta(hours=1),
                     timedelta(hours=1)]
    assert wait_before(2, POLICY, jitter=lambda: 0.0) == timedelta(seconds=30)
    assert wait_before(2, POLICY, jitter=lambda: 0.999) < timedelta(seconds=90)


def test_a_failure_is_tried_again_after_its_backoff_and_says_why():
    outcome = after_attempt(claimed(attempts=2), T0 + timedelta(minutes=5), False, 503, None, "busy", POLICY,
                            jitter=lambda: 0.5)
    assert (outcome.delivered, outcome.error, outcome.response) == (False, "answered HTTP 503", "busy")
    assert outcome.next_attempt_at == T0 + timedelta(minutes=5, seconds=120)
    assert outcome.disable_reason is None


def test_the_last_attempt_is_at_the_window_end_and_after_it_the_delivery_is_given_up():
    near_end = T0 + timedelta(hours=47, minutes=59)
    last = after_attempt(claimed(attempts=40, failing_since=T0 + timedelta(hours=1)), near_end, False, None,
                         "timed out after 5 s", "", POLICY)
    assert last.next_attempt_at == T0 + timedelta(hours=48)
    over = after_attempt(claimed(attempts=41, failing_since=T0 + timedelta(hours=1)), T0 + timedelta(hours=48),
                         False, None, "timed out after 5 s", "", POLICY)
    assert over.next_attempt_at is None and over.disable_reason is None


def test_a_subscription_failing_for_the_whole_window_is_disabled_with_its_last_failure():
    outcome = after_attempt(claimed(attempts=3, occurred_at=T0 + timedelta(hours=47), failing_since=T0),
                            T0 + timedelta(hours=48), False, None, "connection refused", "", POLICY)
    assert outcome.next_attempt_at is None
    assert outcome.disable_reason == "every delivery failed for 48 hours; the last: connection refused"


def test_a_success_ends_the_delivery_and_keeps_only_the_start_of_the_answer():
    outcome = after_attempt(claimed(attempts=5, failing_since=T0), T0 + timedelta(hours=50), True, 200, None,
                            "x" * 2000, POLICY)
    assert (outcome.delivered, outcome.next_attempt_at, outcome.disable_reason) == (True, None, None)
    assert len(outcome.response) == 512
