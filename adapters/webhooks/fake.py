"""In-memory outbox for tests: the SQL one's behaviour, without a database.

Its ``emit`` stands in for ``adapters.webhooks.sql.emit``: a fake adapter has no
transaction to write in, so what it emits is simply kept.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from adapters.paging import Window, in_memory
from adapters.shops.fake import FakeShopStore
from adapters.webhooks.port import (
    Claimed,
    Delivery,
    DeliveryPage,
    DeliveryStatus,
    Event,
    NoSuchSubscription,
    Outcome,
    Subscription,
    SubscriptionExists,
    Topic,
)
from adapters.webhooks.rules import new_event_id


@dataclass
class _Held:
    delivery: Delivery
    claim: str | None = None
    lease_until: datetime | None = None


class FakeWebhooks:
    def __init__(self, shops: FakeShopStore | None = None) -> None:
        self._shops = shops or FakeShopStore()
        self.subscriptions: dict[int, Subscription] = {}
        self.secrets: dict[int, str] = {}
        self.deleted: set[int] = set()
        self.events: dict[str, Event] = {}
        self.deliveries: dict[int, _Held] = {}
        self._ids = itertools.count(1)

    def emit(self, shop_id: int, topic: Topic, payload: dict[str, Any], now: datetime) -> str | None:
        heard = [sub for sub in self.subscriptions.values()
                 if sub.shop_id == shop_id and sub.topic is topic and sub.enabled and sub.id not in self.deleted]
        if not heard:
            return None
        event = Event(new_event_id(), shop_id, topic, payload, now)
        self.events[event.id] = event
        for sub in heard:
            new = Delivery(id=next(self._ids), shop_id=shop_id, subscription_id=sub.id, event_id=event.id,
                           topic=topic, status=DeliveryStatus.PENDING, attempts=0, created_at=now,
                           next_attempt_at=now)
            self.deliveries[new.id] = _Held(new)
        return event.id

    async def subscribe(self, shop_id: int, topic: Topic, url: str, secret: str, now: datetime) -> Subscription:
        if any(s.shop_id == shop_id and s.topic is topic and s.url == url for s in self._live()):
            raise SubscriptionExists(f"this URL is subscribed to {topic.value} already")
        sub = Subscription(id=next(self._ids), shop_id=shop_id, topic=topic, url=url, created_at=now)
        self.subscriptions[sub.id] = sub
        self.secrets[sub.id] = secret
        return sub

    async def unsubscribe(self, shop_id: int, subscription_id: int, now: datetime) -> Subscription:
        sub = self._own(shop_id, subscription_id)
        self.deleted.add(sub.id)
        self._give_up_pending(sub.id, "subscription deleted")
        return sub

    async def enable(self, shop_id: int, subscription_id: int) -> Subscription:
        sub = replace(self._own(shop_id, subscription_id), disabled_at=None, disabled_reason=None, failing_since=None)
        self.subscriptions[sub.id] = sub
        return sub

    async def subscriptions_of(self, shop_id: int) -> list[Subscription]:
        return [s for s in self._live() if s.shop_id == shop_id]

    async def deliveries_page(self, shop_id: int, status: DeliveryStatus | None, window: Window[int]) -> DeliveryPage:
        mine = [replace(h.delivery, payload=self.events[h.delivery.event_id].payload) for h in self.deliveries.values()
                if h.delivery.shop_id == shop_id and (status is None or h.delivery.status is status)]
        page, next_, previous = in_memory(sorted(mine, key=lambda d: -d.id), lambda d: d.id, window, descending=True)
        return DeliveryPage(page, next_, previous, len(mine))

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
        claim = secrets.token_hex(16)
        due = sorted(
            (h for h in self.deliveries.values()
             if h.delivery.status is DeliveryStatus.PENDING and h.delivery.next_attempt_at is not None
             and h.delivery.next_attempt_at <= now and (h.lease_until is None or h.lease_until < now)),
            key=lambda h: (h.delivery.next_attempt_at, h.delivery.id),
        )[:limit]
        claimed = []
        for held in due:
            held.claim, held.lease_until = claim, lease_until
            d = held.delivery
            sub = self.subscriptions[d.subscription_id]
            claimed.append(Claimed(delivery_id=d.id, claim=claim, attempts=d.attempts, event=self.events[d.event_id],
                                   shop_handle=self._shops.shops[d.shop_id].handle, url=sub.url,
                                   secret=self.secrets[sub.id], subscription_id=sub.id,
                                   failing_since=sub.failing_since))
        return sorted(claimed, key=lambda c: c.delivery_id)

    async def record(self, claimed: Claimed, outcome: Outcome) -> bool:
        held = self.deliveries.get(claimed.delivery_id)
        if held is None or held.claim != claimed.claim:
            return False
        if outcome.delivered:
            status = DeliveryStatus.DELIVERED
        else:
            status = DeliveryStatus.PENDING if outcome.next_attempt_at is not None else DeliveryStatus.FAILED
        held.claim = held.lease_until = None
        held.delivery = replace(
            held.delivery, attempts=held.delivery.attempts + 1, status=status, next_attempt_at=outcome.next_attempt_at,
            last_attempt_at=outcome.at, last_status=outcome.status, last_error=outcome.error,
            last_response=outcome.response, delivered_at=outcome.at if outcome.delivered else None)
        sub = self.subscriptions[claimed.subscription_id]
        if outcome.delivered:
            sub = replace(sub, failing_since=None, last_error=None)
        elif outcome.disable_reason is not None:
            if sub.enabled:
                sub = replace(sub, disabled_at=outcome.at, disabled_reason=outcome.disable_reason,
                              last_error=outcome.error)
            self._give_up_pending(sub.id, "subscription disabled")
        else:
            sub = replace(sub, failing_since=sub.failing_since or outcome.at, last_error=outcome.error)
        self.subscriptions[sub.id] = sub
        return True

    async def reseal(self, change: Callable[[str], str]) -> int:
        changed = {i: change(secret) for i, secret in self.secrets.items()}  # all, or none if one fails
        self.secrets.update(changed)
        return len(changed)

    async def prune(self, before: datetime, limit: int = 500) -> int:
        pending = {h.delivery.event_id for h in self.deliveries.values() if h.delivery.status is DeliveryStatus.PENDING}
        old = [e.id for e in self.events.values() if e.occurred_at < before and e.id not in pending][:limit]
        for event_id in old:
            del self.events[event_id]
        for delivery_id in [i for i, h in self.deliveries.items() if h.delivery.event_id in old]:
            del self.deliveries[delivery_id]
        return len(old)

    def _live(self) -> list[Subscription]:
        return [s for i, s in sorted(self.subscriptions.items()) if i not in self.deleted]

    def _own(self, shop_id: int, subscription_id: int) -> Subscription:
        sub = self.subscriptions.get(subscription_id)
        if sub is None or sub.shop_id != shop_id or sub.id in self.deleted:
            raise NoSuchSubscription("the shop has no such subscription")
        return sub

    def _give_up_pending(self, subscription_id: int, reason: str) -> None:
        for held in self.deliveries.values():
            if held.delivery.subscription_id == subscription_id and held.delivery.status is DeliveryStatus.PENDING:
                held.claim = held.lease_until = None
                held.delivery = replace(held.delivery, status=DeliveryStatus.FAILED, next_attempt_at=None,
                                        last_error=reason)
