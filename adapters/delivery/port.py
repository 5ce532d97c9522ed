"""Delivery: tiers and their fees by region, bookable slots, and each order's delivery record.

Errors::

    DeliveryError
    ├── SlotUnavailable      no such slot for this shop and tier, or it has started
    ├── SlotFull             every place in the slot is booked
    └── InvalidTransition    a delivery event that may not come now (e.g. DELIVERED before ID_VERIFIED)
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class Tier(enum.Enum):
    STANDARD = "STANDARD"
    EXPRESS = "EXPRESS"
    SCHEDULED = "SCHEDULED"
    PREMIUM = "PREMIUM"


TIER_ORDER = (Tier.STANDARD, Tier.EXPRESS, Tier.SCHEDULED, Tier.PREMIUM)


class EventKind(enum.Enum):
    CREATED = "CREATED"
    PICKED = "PICKED"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    ID_VERIFIED = "ID_VERIFIED"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class SlotPlan:
    """How a tier's slots are made: ``days`` ahead, daily windows ("10:00-12:00"), places each."""

    days: int
    windows: tuple[str, ...]
    capacity: int
    timezone: str


@dataclass(frozen=True, slots=True)
class TierConfig:
    tier: Tier
    title: str
    fee: int
    free_above: int | None
    regions: tuple[str, ...]
    remote_surcharge: tuple[tuple[str, int], ...]
    features: tuple[str, ...]
    requires_eligible_sku: bool
    slots: SlotPlan | None


@dataclass(frozen=True, slots=True)
class Slot:
    id: int
    tier: Tier
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.booked, 0)


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """What delivery needs to know of a line: its value and whether white-glove may carry it."""

    sku_id: int
    unit_price: int
    quantity: int
    premium_eligible: bool


@dataclass(frozen=True, slots=True)
class Quote:
    tier: Tier
    title: str
    fee: int
    features: tuple[str, ...]
    slots: tuple[Slot, ...]


@dataclass(frozen=True, slots=True)
class Offer:
    """What a shop offers at a moment: its tiers and each slotted tier's bookable slots."""

    tiers: dict[Tier, TierConfig]
    slots: dict[Tier, tuple[Slot, ...]]


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    at: datetime
    note: str | None


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    shop_id: int
    order_ref: str
    tier: Tier
    region: str
    fee: int
    slot: Slot | None
    features: tuple[str, ...]
    events: tuple[Event, ...]


class DeliveryError(Exception):
    pass


class SlotUnavailable(DeliveryError):
    pass


class SlotFull(DeliveryError):
    pass


class InvalidTransition(DeliveryError):
    pass


class Delivery(Protocol):
    async def offer(self, shop_id: int, now: datetime) -> Offer:
        """The shop's tiers and bookable slots now; ``quote`` prices lines against it."""
        ...

    async def quote(
        self, shop_id: int, requests: Sequence[tuple[str, Sequence[QuoteLine]]], now: datetime
    ) -> list[list[Quote]]:
        """For each (region, lines), the tiers that can deliver them there, in tier order, with slots."""
        ...

    async def slot(self, shop_id: int, slot_id: int) -> Slot | None: ...

    async def book_slot(self, shop_id: int, slot_id: int, ref: str, now: datetime) -> Slot:
        """Take one place; the same ref books once. Raises SlotFull or SlotUnavailable."""
        ...

    async def release_slot(self, shop_id: int, ref: str) -> bool:
        """Give back the place booked under ref; True only the first time."""
        ...

    async def open_record(
        self,
        shop_id: int,
        order_ref: str,
        tier: Tier,
        region: str,
        fee: int,
        slot_id: int | None,
        features: Sequence[str],
        now: datetime,
    ) -> DeliveryRecord:
        """The order's delivery, starting with a CREATED event; the same order_ref opens it once."""
        ...

    async def record(self, shop_id: int, order_ref: str) -> DeliveryRecord | None: ...

    async def records(self, shop_id: int, order_refs: Sequence[str]) -> list[DeliveryRecord | None]:
        """Several orders' delivery records, in key order: for a page of orders at once."""
        ...

    async def record_event(
        self,
        shop_id: int,
        order_ref: str,
        kind: EventKind,
        note: str | None,
        balance_settled: bool,
        now: datetime,
    ) -> DeliveryRecord:
        """Append an event if the rules allow it now; raises InvalidTransition otherwise."""
        ...
