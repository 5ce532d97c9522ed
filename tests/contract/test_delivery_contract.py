"""The delivery port: the same behaviour from the fake and from SQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.db import utcnow
from adapters.delivery.port import (
    EventKind,
    InvalidTransition,
    QuoteLine,
    SlotFull,
    SlotUnavailable,
    Tier,
)
from adapters.shops.rules import hash_key
from gateway.wiring import Adapters
from tests.conftest import load_demo

WATCH = QuoteLine(1, 13_000_000, 1, True)
DIAPERS = QuoteLine(2, 15_900, 1, False)


async def shop(adapters: Adapters, key: str) -> int:
    found = await adapters.shops.shop_for_key(hash_key(key))
    assert found is not None
    return found[0].id


@pytest.fixture
async def demo_shops(adapters: Adapters) -> tuple[int, int]:
    await load_demo(adapters)
    return await shop(adapters, "pk_demo_aurelian"), await shop(adapters, "pk_demo_panda")


async def test_quotes_list_the_tiers_that_deliver_there_in_order(adapters: Adapters, demo_shops):
    aurelian, panda = demo_shops
    now = utcnow()
    [beijing, tianjin, dongguan] = await adapters.delivery.quote(
        aurelian, [("1_72_2799_0", [WATCH]), ("3", [WATCH]), ("19_1655", [WATCH])], now
    )
    [guangzhou, tibet] = await adapters.delivery.quote(panda, [("19_1601", [DIAPERS]), ("26", [DIAPERS])], now)
    assert [q.tier for q in beijing] == [Tier.PREMIUM] and beijing[0].features == ("WHITE_GLOVE", "ID_CHECK", "APPOINTMENT")
    assert tianjin == [] and dongguan == [], "no white-glove outside the premium cities"
    assert [(q.tier, q.fee) for q in guangzhou] == [(Tier.STANDARD, 0), (Tier.EXPRESS, 1500), (Tier.SCHEDULED, 500)]
    assert [(q.tier, q.fee) for q in tibet] == [(Tier.STANDARD, 1000)]
    assert guangzhou[0].slots == () and len(guangzhou[2].slots) > 0


async def test_slots_are_made_once_and_lie_ahead(adapters: Adapters, demo_shops):
    aurelian, _ = demo_shops
    now = utcnow()
    [[first]] = await adapters.delivery.quote(aurelian, [("1", [WATCH])], now)
    [[again]] = await adapters.delivery.quote(aurelian, [("1", [WATCH])], now)
    assert [s.id for s in first.slots] == [s.id for s in again.slots]
    assert 18 <= len(first.slots) <= 21  # 7 days x 3 windows, less any that started today
    assert all(s.starts_at > now and s.remaining == 2 for s in first.slots)
    assert [s.starts_at for s in first.slots] == sorted(s.starts_at for s in first.slots)


async def test_a_slot_takes_as_many_bookings_as_its_capacity(adapters: Adapters, demo_shops):
    # given a white-glove slot with 2 places
    aurelian, panda = demo_shops
    now = utcnow()
    [[premium]] = await adapters.delivery.quote(aurelian, [("1", [WATCH])], now)
    slot = premium.slots[0]
    # when
    one = await adapters.delivery.book_slot(aurelian, slot.id, "order-1", now)
    again = await adapters.delivery.book_slot(aurelian, slot.id, "order-1", now)
    two = await adapters.delivery.book_slot(aurelian, slot.id, "order-2", now)
    with pytest.raises(SlotFull):
        await adapters.delivery.book_slot(aurelian, slot.id, "order-3", now)
    # then
    assert (one.remaining, again.remaining, two.remaining) == (1, 1, 0)
    assert (await adapters.delivery.slot(aurelian, slot.id)).booked == 2
    assert await adapters.delivery.slot(panda, slot.id) is None
    with pytest.raises(SlotUnavailable):
        await adapters.delivery.book_slot(panda, slot.id, "order-4", now)
    # a release gives the place back, once
    assert await adapters.delivery.release_slot(aurelian, "order-1") is True
    assert await adapters.delivery.release_slot(aurelian, "order-1") is False
    assert (await adapters.delivery.book_slot(aurelian, slot.id, "order-3", now)).remaining == 0


async def test_a_slot_that_has_started_cannot_be_booked(adapters: Adapters, demo_shops):
    aurelian, _ = demo_shops
    now = utcnow()
    [[premium]] = await adapters.delivery.quote(aurelian, [("1", [WATCH])], now)
    with pytest.raises(SlotUnavailable):
        await adapters.delivery.book_slot(aurelian, premium.slots[0].id, "late", premium.slots[0].starts_at)
    with pytest.raises(SlotUnavailable):
        await adapters.delivery.book_slot(aurelian, 999_999, "nowhere", now)


async def test_a_premium_delivery_record_follows_the_handover_rules(adapters: Adapters, demo_shops):
    # given a white-glove order booked to a slot
    aurelian, _ = demo_shops
    now = utcnow()
    [[premium]] = await adapters.delivery.quote(aurelian, [("1_72", [WATCH])], now)
    slot = await adapters.delivery.book_slot(aurelian, premium.slots[0].id, "A-1", now)
    record = await adapters.delivery.open_record(aurelian, "A-1", Tier.PREMIUM, "1_72", 0, slot.id, premium.features, now)
    again = await adapters.delivery.open_record(aurelian, "A-1", Tier.PREMIUM, "1_72", 0, slot.id, premium.features, now)
    assert record == again and [e.kind for e in record.events] == [EventKind.CREATED]
    assert record.slot is not None and record.slot.booked == 1

    async def event(kind: EventKind, settled: bool = False):
        return await adapters.delivery.record_event(aurelian, "A-1", kind, None, settled, now + timedelta(hours=1))

    # when it goes out
    await event(EventKind.PICKED)
    await event(EventKind.OUT_FOR_DELIVERY)
    # then it cannot be handed over before the ID check, nor before the balance is collected
    with pytest.raises(InvalidTransition):
        await event(EventKind.DELIVERED, settled=True)
    await event(EventKind.ID_VERIFIED)
    with pytest.raises(InvalidTransition):
        await event(EventKind.DELIVERED, settled=False)
    done = await event(EventKind.DELIVERED, settled=True)
    assert [e.kind for e in done.events] == [EventKind.CREATED, EventKind.PICKED, EventKind.OUT_FOR_DELIVERY,
                                             EventKind.ID_VERIFIED, EventKind.DELIVERED]
    with pytest.raises(InvalidTransition):
        await event(EventKind.FAILED, settled=True)
    # and another shop sees no such delivery
    assert await adapters.delivery.record(demo_shops[1], "A-1") is None
    with pytest.raises(InvalidTransition):
        await adapters.delivery.record_event(demo_shops[1], "A-1", EventKind.PICKED, None, True, now)
