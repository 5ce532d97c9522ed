"""When a delivery is tried again, when it is given up, and when its subscription is disabled."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.webhooks.port import Claimed, Outcome

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
RETRY_WINDOW = timedelta(hours=48)
MAX_EXCERPT = 512


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: the n-th retry waits first_retry * 2**(n-1), at most
    ``longest_wait``, times a random factor in [0.5, 1.5) so that a receiver back from an outage
    is not hit by every delivery at once. Retries stop once the event is ``window`` old."""

    first_retry: timedelta = FIRST_RETRY
    longest_wait: timedelta = LONGEST_WAIT
    window: timedelta = RETRY_WINDOW


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(16)


def wait_before(attempts: int, policy: RetryPolicy, jitter: Callable[[], float] = random.random) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt (1 for the first)."""
    doubled = policy.first_retry * (2 ** min(max(attempts - 1, 0), 32))
    return min(doubled, policy.longest_wait) * (0.5 + jitter())


def after_attempt(
    claimed: Claimed, now: datetime, delivered: bool, status: int | None, error: str | None, response: str,
    policy: RetryPolicy, jitter: Callable[[], float] = random.random,
) -> Outcome:
    """What an attempt leads to: delivered; tried again later; or given up, when the event is as
    old as the retry window. A subscription whose deliveries have failed, with no success
    between, for the whole window is disabled, with the last failure as its reason."""
    excerpt = response[:MAX_EXCERPT]
    if delivered:
        return Outcome(at=now, delivered=True, status=status, error=None, response=excerpt, next_attempt_at=None)
    reason = error or f"answered HTTP {status}"
    retry_at = now + wait_before(claimed.attempts + 1, policy, jitter)
    give_up_at = claimed.event.occurred_at + policy.window
    next_at = None if now >= give_up_at else min(retry_at, give_up_at)
    failing_since = claimed.failing_since or now
    disable = None
    if now - failing_since >= policy.window:
        disable = f"every delivery failed for {_hours(policy.window)}; the last: {reason}"
    return Outcome(at=now, delivered=False, status=status, error=reason, response=excerpt,
                   next_attempt_at=None if disable else next_at, disable_reason=disable)


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} hours" if hours >= 1 else f"{span.total_seconds():g} seconds"
