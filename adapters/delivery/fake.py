"""In-memory delivery for tests: the SQL adapter's behaviour without a database."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from adapters.delivery import rules
from adapters.delivery.port import (
    DeliveryRecord,
    Event,
    EventKind,
    InvalidTransition,
    Offer,
    Quote,
    QuoteLine,
    Slot,
    SlotFull,
    SlotUnavailable,
    Tier,
    TierConfig,
)


class FakeDelivery:
    def __init__(self) -> None:
        self.tiers: dict[tuple[int, Tier], TierConfig] = {}
        self.slots: dict[int, tuple[int, Slot]] = {}  # id -> (shop, slot)
        self.bookings: dict[tuple[int, str], tuple[int, bool]] = {}  # (shop, ref) -> (slot id, released)
        self.records: dict[tuple[int, str], DeliveryRecord] = {}
        self._ids = itertools.count(1)

    async def offer(self, shop_id: int, now: datetime) -> Offer:
        tiers = {tier: config for (shop, tier), config in self.tiers.items() if shop == shop_id}
        return Offer(tiers, {tier: tuple(self._slots(shop_id, c, now)) for tier, c in tiers.items() if c.slots})

    async def quote(
        self, shop_id: int, requests: Sequence[tuple[str, Sequence[QuoteLine]]], now: datetime
    ) -> list[list[Quote]]:
        offer = await self.offer(shop_id, now)
        return [rules.quotes(offer, region, lines) for region, lines in requests]

    def _slots(self, shop_id: int, config: TierConfig, now: datetime) -> list[Slot]:
        if config.slots is None:
            return []
        made = {(s.tier, s.starts_at): s for shop, s in self.slots.values() if shop == shop_id}
        out = []
        for start, end in rules.slot_windows(config.slots, now):
            slot = made.get((config.tier, start))
            if slot is None:
                slot = Slot(next(self._ids), config.tier, start, end, config.slots.capacity, 0)
                self.slots[slot.id] = (shop_id, slot)
            out.append(slot)
        return out

    async def slot(self, shop_id: int, slot_id: int) -> Slot | None:
        found = self.slots.get(slot_id)
        return found[1] if found and found[0] == shop_id else None

    async def book_slot(self, shop_id: int, slot_id: int, ref: str, now: datetime) -> Slot:
        held = self.bookings.get((shop_id, ref))
        if held is not None and not held[1]:
            return self.slots[held[0]][1]
        slot = await self.slot(shop_id, slot_id)
        if slot is None or slot.starts_at <= now:
            raise SlotUnavailable("no such slot, or it has started")
        if slot.booked >= slot.capacity:
            raise SlotFull("every place in this slot is booked")
        booked = replace(slot, booked=slot.booked + 1)
        self.slots[slot_id] = (shop_id, booked)
        self.bookings[(shop_id, ref)] = (slot_id, False)
        return booked

    async def release_slot(self, shop_id: int, ref: str) -> bool:
        held = self.bookings.get((shop_id, ref))
        if held is None or held[1]:
            return False
        shop, slot = self.slots[held[0]]
        self.slots[held[0]] = (shop, replace(slot, booked=slot.booked - 1))
        self.bookings[(shop_id, ref)] = (held[0], True)
        return True

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
        key = (shop_id, order_ref)
        if key not in self.records:
            slot = await self.slot(shop_id, slot_id) if slot_id is not None else None
            self.records[key] = DeliveryRecord(next(self._ids), shop_id, order_ref, tier, region, fee, slot,
                                               tuple(features), (Event(EventKind.CREATED, now, None),))
        return await self._fresh(self.records[key])

    async def record(self, shop_id: int, order_ref: str) -> DeliveryRecord | None:
        found = self.records.get((shop_id, order_ref))
        return None if found is None else await self._fresh(found)

    async def records(self, shop_id: int, order_refs: Sequence[str]) -> list[DeliveryRecord | None]:
        return [await self.record(shop_id, ref) for ref in order_refs]

    async def _fresh(self, record: DeliveryRecord) -> DeliveryRecord:
        slot = None if record.slot is None else await self.slot(record.shop_id, record.slot.id)
        return replace(record, slot=slot)

    async def record_event(
        self,
        shop_id: int,
        order_ref: str,
        kind: EventKind,
        note: str | None,
        balance_settled: bool,
        now: datetime,
    ) -> DeliveryRecord:
        current = self.records.get((shop_id, order_ref))
        if current is None:
            raise InvalidTransition("this order has no delivery")
        rules.check_event(current.tier, current.features, [e.kind for e in current.events], kind, balance_settled)
        self.records[(shop_id, order_ref)] = replace(current, events=(*current.events, Event(kind, now, note)))
        return await self._fresh(self.records[(shop_id, order_ref)])
