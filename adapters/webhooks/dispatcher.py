"""Sending what the outbox holds: claim the due deliveries, POST each, record how it went.

Deliveries to one URL go one after another, in the order their events happened
(whichever topics they are of), so a receiver that answers them all sees them in
that order; a failed one waits its backoff while later events go on. Different
URLs are sent to at the same time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import orjson

from adapters.webhooks.payloads import moment
from adapters.webhooks.port import Claimed, Event, Webhooks
from adapters.webhooks.rules import RetryPolicy, after_attempt
from adapters.webhooks.signing import delivery_headers

log = logging.getLogger("jimu.webhooks")
BATCH = 50  # deliveries claimed at a time by one dispatcher


class Attempted(Protocol):
    status_code: int | None
    error: str | None
    response_excerpt: str

    @property
    def delivered(self) -> bool: ...


class Poster(Protocol):
    """``adapters.webhooks.sender.Sender``'s one method: never raises for the network's failures."""

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Attempted: ...


@dataclass(slots=True)
class Dispatched:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0  # attempts that failed (tried again later, or given up)
    given_up: int = 0  # of the failed: deliveries tried for the whole window, sent no more
    disabled: int = 0  # subscriptions disabled for failing the whole window
    lost: int = 0  # attempts whose claim ran out before they were recorded
    topics: dict[str, int] = field(default_factory=dict)


def body_of(event: Event, shop_handle: str) -> bytes:
    """What a delivery POSTs: the same bytes for every attempt of every delivery of the event."""
    return orjson.dumps({"id": event.id, "topic": event.topic.value, "shop": shop_handle,
                         "occurredAt": moment(event.occurred_at), "data": event.payload})


class Dispatcher:
    def __init__(self, outbox: Webhooks, poster: Poster, open_secret: Callable[[str], str], policy: RetryPolicy,
                 timeout_seconds: float, clock: Callable[[], datetime]) -> None:
        self._outbox = outbox
        self._poster = poster
        self._open_secret = open_secret
        self._policy = policy
        # A claim outlives the attempt it covers (bounded by the timeout), so no other dispatcher
        # takes a delivery while it is being sent.
        self._lease = timedelta(seconds=2 * timeout_seconds + 10)
        self._clock = clock

    async def dispatch(self, limit: int = BATCH) -> Dispatched:
        """One round: everything due now, sent and recorded."""
        now = self._clock()
        claimed = await self._outbox.claim_due(now, now + self._lease, limit)
        done = Dispatched(claimed=len(claimed))
        by_url: dict[str, list[Claimed]] = {}
        for c in sorted(claimed, key=lambda c: (c.event.occurred_at, c.delivery_id)):
            by_url.setdefault(c.url, []).append(c)
        await asyncio.gather(*(self._send_in_turn(queue, done) for queue in by_url.values()))
        return done

    async def _send_in_turn(self, queue: list[Claimed], done: Dispatched) -> None:
        for claimed in queue:
            await self._send(claimed, done)

    async def _send(self, claimed: Claimed, done: Dispatched) -> None:
        event = claimed.event
        body = body_of(event, claimed.shop_handle)
        try:
            secret = self._open_secret(claimed.secret)
        except Exception as exc:  # a secret no key opens: the attempt fails, and says why
            delivered, status, error, response = False, None, f"cannot sign: {exc}", ""
        else:
            headers = delivery_headers(topic=event.topic.value, event_id=event.id, shop=claimed.shop_handle,
                                       timestamp=self._clock(), body=body, secret=secret)
            attempt = await self._poster.post(claimed.url, body, headers)
            delivered, status, error, response = (attempt.delivered, attempt.status_code, attempt.error,
                                                  attempt.response_excerpt)
        outcome = after_attempt(claimed, self._clock(), delivered, status, error, response, self._policy)
        if not await self._outbox.record(claimed, outcome):
            done.lost += 1
            log.warning("webhook delivery %d: its claim ran out before the attempt was recorded", claimed.delivery_id)
            return
        if delivered:
            done.delivered += 1
            done.topics[event.topic.value] = done.topics.get(event.topic.value, 0) + 1
        else:
            done.failed += 1
            log.info("webhook delivery %d (%s to %s) failed: %s%s", claimed.delivery_id, event.topic.value,
                     claimed.url, outcome.error, "" if outcome.next_attempt_at else "; given up",
                     extra={"jimu": {"delivery": claimed.delivery_id, "topic": event.topic.value,
                                     "status": status, "given_up": outcome.next_attempt_at is None}})
            done.given_up += outcome.next_attempt_at is None
            done.disabled += outcome.disable_reason is not None
            if outcome.disable_reason:
                log.warning("webhook subscription %d disabled: %s", claimed.subscription_id, outcome.disable_reason)
