"""Delivery types."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from adapters.delivery import port
from schema.common import Money, gid


@strawberry.enum
class DeliveryTier(enum.Enum):
    STANDARD = "STANDARD"
    EXPRESS = "EXPRESS"
    SCHEDULED = "SCHEDULED"
    PREMIUM = "PREMIUM"


@strawberry.type
class DeliverySlot:
    id: strawberry.ID
    starts_at: datetime
    ends_at: datetime
    remaining_capacity: int

    @classmethod
    def of(cls, slot: port.Slot) -> DeliverySlot:
        return cls(id=gid("DeliverySlot", slot.id), starts_at=slot.starts_at, ends_at=slot.ends_at,
                   remaining_capacity=slot.remaining)


@strawberry.type
class DeliveryOption:
    tier: DeliveryTier
    title: str
    fee: Money
    features: list[str] = strawberry.field(description="Service features, e.g. WHITE_GLOVE, ID_CHECK, APPOINTMENT.")
    slots: list[DeliverySlot] = strawberry.field(description="Bookable slots; empty for tiers without appointments.")

    @classmethod
    def of(cls, quote: port.Quote) -> DeliveryOption:
        return cls(
            tier=DeliveryTier(quote.tier.value),
            title=quote.title,
            fee=Money.of(quote.fee),
            features=list(quote.features),
            slots=[DeliverySlot.of(s) for s in quote.slots],
        )


@strawberry.enum
class DeliveryEventKind(enum.Enum):
    CREATED = "CREATED"
    PICKED = "PICKED"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    ID_VERIFIED = "ID_VERIFIED"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@strawberry.type
class DeliveryEvent:
    kind: DeliveryEventKind
    at: datetime
    note: str | None


@strawberry.type
class OrderDelivery:
    tier: DeliveryTier
    region: str
    fee: Money
    slot: DeliverySlot | None
    features: list[str]
    events: list[DeliveryEvent]

    @classmethod
    def of(cls, record: port.DeliveryRecord) -> OrderDelivery:
        return cls(
            tier=DeliveryTier(record.tier.value),
            region=record.region,
            fee=Money.of(record.fee),
            slot=DeliverySlot.of(record.slot) if record.slot else None,
            features=list(record.features),
            events=[DeliveryEvent(kind=DeliveryEventKind(e.kind.value), at=e.at, note=e.note) for e in record.events],
        )
