"""A circuit breaker per shop and capability: stop calling a merchant's system that keeps
failing, so that a dead remote costs a request nothing but the answer that it is down.

CLOSED: calls go through; ``threshold`` failures in a row open it. OPEN: calls are refused at
once for ``cool_down`` seconds. Then HALF_OPEN: one trial call goes through (the others are
refused meanwhile); its success closes the breaker, its failure opens it again, and a trial
that ends with neither (cancelled) lets the next call be the trial. Time is given
by the caller (a monotonic clock), so the rules are tested without waiting.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class Breaker:
    threshold: int = 5
    cool_down: float = 10.0
    failures: int = 0
    opened_at: float | None = None
    trial: bool = False  # a half-open trial call is under way

    def state(self, now: float) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.CLOSED
        return BreakerState.OPEN if now - self.opened_at < self.cool_down else BreakerState.HALF_OPEN

    def allow(self, now: float) -> bool:
        """Whether a call may be made now; a half-open breaker lets one through at a time."""
        match self.state(now):
            case BreakerState.CLOSED:
                return True
            case BreakerState.OPEN:
                return False
            case BreakerState.HALF_OPEN:
                if self.trial:
                    return False
                self.trial = True
                return True

    def succeeded(self) -> None:
        self.failures, self.opened_at, self.trial = 0, None, False

    def abandoned(self) -> None:
        """A call that ended with neither outcome (cancelled, or its answer broke the caller):
        it tells nothing of the remote, but a trial it was must not keep the next one out."""
        self.trial = False

    def failed(self, now: float) -> None:
        self.failures += 1
        if self.trial or self.failures >= self.threshold:
            self.opened_at, self.trial = now, False
