"""Outbound webhooks: the events a shop's systems hear of, and their deliveries.

An event is written to the outbox in the transaction of the change that caused
it (``adapters.webhooks.sql.emit``), with one delivery for each subscription of
the shop to its topic at that moment. The dispatcher claims due deliveries,
POSTs them and records each attempt. Delivery is at least once: a receiver
dedupes by the event id, which every attempt of every delivery of the event
carries.

Errors::

    WebhookError            an expected refusal, with a code for userErrors
    ├── SubscriptionExists  the shop subscribed this URL to this topic already
    └── NoSuchSubscription  not one of the shop's subscriptions
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from adapters.paging import Window


class Topic(enum.Enum):
    ORDERS_CREATE = "ORDERS_CREATE"  # a checkout completed: the order is OPEN
    ORDERS_DEPOSIT_PAID = "ORDERS_DEPOSIT_PAID"  # the deposits of a DEPOSIT order are in; the balance is due
    ORDERS_PAID = "ORDERS_PAID"  # fully paid
    ORDERS_CANCELLED = "ORDERS_CANCELLED"  # by the shopper, the merchant, or expiry
    ORDERS_FULFILLED = "ORDERS_FULFILLED"  # handed to delivery (its first movement)
    ORDERS_DELIVERED = "ORDERS_DELIVERED"
    DEPOSIT_FORFEITED = "DEPOSIT_FORFEITED"
    REFUNDS_CREATE = "REFUNDS_CREATE"
    INVENTORY_LOW = "INVENTORY_LOW"  # a SKU's stock fell to or below its threshold
    COUPON_SOLD_OUT = "COUPON_SOLD_OUT"  # the last coupon of a template was issued
    ASSIST_GRANTED = "ASSIST_GRANTED"  # an assist got all its help and its initiator the reward


class DeliveryStatus(enum.Enum):
    PENDING = "PENDING"  # not delivered yet: waiting for its next attempt
    DELIVERED = "DELIVERED"  # a 2xx answered
    FAILED = "FAILED"  # given up: retried for the whole retry window, or its subscription went


@dataclass(frozen=True, slots=True)
class Event:
    id: str  # "evt_" + 32 hex: the receiver's deduplication key
    shop_id: int
    topic: Topic
    payload: dict[str, Any]
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    shop_id: int
    topic: Topic
    url: str
    created_at: datetime
    failing_since: datetime | None = None  # the first failure since the last success
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    last_error: str | None = None

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    shop_id: int
    subscription_id: int
    event_id: str
    topic: Topic
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_status: int | None = None  # the receiver's HTTP status, None when it never answered
    last_error: str | None = None
    last_response: str | None = None  # the start of the receiver's answer
    payload: dict[str, Any] | None = None  # the event's data (None once the event was pruned)


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    deliveries: list[Delivery]
    has_next_page: bool
    has_previous_page: bool
    total_count: int


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a dispatcher holds until ``lease_until``: what to send, where, signed how."""

    delivery_id: int
    claim: str  # only the holder of the claim records the attempt
    attempts: int  # attempts made before this one
    event: Event
    shop_handle: str
    url: str
    secret: str  # as stored (sealed when JIMU_SECRET_KEY is set)
    subscription_id: int
    failing_since: datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One attempt's result, and what follows from it (decided by ``rules.after_attempt``)."""

    at: datetime
    delivered: bool
    status: int | None
    error: str | None
    response: str
    next_attempt_at: datetime | None  # None: no more attempts (delivered, or given up)
    disable_reason: str | None = None  # set when the subscription has failed for the whole window


class WebhookError(Exception):
    code = "INVALID"


class SubscriptionExists(WebhookError):
    code = "INVALID"


class NoSuchSubscription(WebhookError):
    code = "NOT_FOUND"


class Webhooks(Protocol):
    """Subscriptions, and the outbox's deliveries for the dispatcher and the merchant."""

    async def subscribe(self, shop_id: int, topic: Topic, url: str, secret: str, now: datetime) -> Subscription: ...

    async def unsubscribe(self, shop_id: int, subscription_id: int, now: datetime) -> Subscription:
        """Stop sending to it: its deliveries not yet made fail ("subscription deleted")."""
        ...

    async def enable(self, shop_id: int, subscription_id: int) -> Subscription:
        """Send to a disabled subscription again, from now on (what failed stays failed)."""
        ...

    async def subscriptions_of(self, shop_id: int) -> list[Subscription]:
        """The shop's subscriptions that are not deleted, oldest first."""
        ...

    async def deliveries_page(self, shop_id: int, status: DeliveryStatus | None, window: Window[int]) -> DeliveryPage:
        """The shop's deliveries, newest first."""
        ...

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
        """Deliveries due now that no other dispatcher holds, held until ``lease_until``."""
        ...

    async def record(self, claimed: Claimed, outcome: Outcome) -> bool:
        """Write an attempt's outcome; False (and nothing written) when the claim was lost."""
        ...

    async def reseal(self, change: Callable[[str], str]) -> int:
        """Every stored secret through ``change`` (sealing them again with a new key), all or nothing."""
        ...

    async def prune(self, before: datetime, limit: int = 500) -> int:
        """Forget events older than ``before`` whose deliveries are all settled; how many went."""
        ...
