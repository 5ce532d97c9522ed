"""The stock of a shop kept by the reference merchant system, a real process, while its goods
are jimu's own (the merchant knows SKUs by code, not by jimu's ids): reads as the merchant's
SQL answers them, reservations idempotent by their ref, refusals as the port's errors, and a
write never retried by the adapter itself."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from adapters.db import Database, utcnow
from adapters.goods.sql import SqlGoodsCatalog
from adapters.inventory.http import HttpInventory
from adapters.inventory.port import (
    OutOfStock,
    ReservationState,
    StockKeptRemotely,
    WantedLine,
)
from adapters.inventory.sql import SqlInventory
from adapters.remote.client import Endpoint, RemoteClient, RemoteUnavailable
from adapters.shops.sql import SqlShopStore
from gateway.wiring import Adapters

REGION = "1_72_2799_0"
CODES = ["WATCH-RG41-STEEL", "STRAP-ALLI-BLK"]
# No test here is about time: a busy machine (the other database's suite, a CI neighbour) must not
# turn a merchant's answer into a timeout. tests/remote/test_http_goods.py times the slow ones.
TIMEOUT = 3.0


@dataclass
class Both:
    """jimu's side (the shop ``ours``, its goods and the HTTP adapter) and the merchant's own."""

    merchant: Any
    remote: HttpInventory
    ours: int
    our_ids: list[int]
    our_goods: Any
    own: SqlInventory
    theirs: int
    their_ids: list[int]
    their_goods: SqlGoodsCatalog


@pytest.fixture
async def stock(merchant_system, demo: Adapters):
    merchant = merchant_system()
    db = Database(merchant.database_url)
    [theirs] = await SqlShopStore(db).shops_by_handle(["aurelian"])
    [ours] = await demo.shops.shops_by_handle(["aurelian"])
    their_ids = [s.id for s in await SqlGoodsCatalog(db).skus_by_code(theirs.id, CODES)]
    our_ids = [s.id for s in await demo.goods.skus_by_code(ours.id, CODES)]
    async with httpx.AsyncClient() as http:
        remote = HttpInventory(RemoteClient(http, timeout=TIMEOUT),
                               Endpoint(ours.id, "aurelian", "inventory", merchant.url, merchant.secret), demo.goods)
        yield Both(merchant, remote, ours.id, our_ids, demo.goods, SqlInventory(db), theirs.id, their_ids,
                   SqlGoodsCatalog(db))
    await db.dispose()


async def test_reads_answer_what_the_merchant_holds_under_jimus_ids(stock):
    remote, ours, our_ids, own, theirs, their_ids = (stock.remote, stock.ours, stock.our_ids, stock.own, stock.theirs,
                                                      stock.their_ids)
    regions = [REGION, None, "19"]
    assert await remote.available(ours, [(i, r) for i in our_ids for r in regions]) == \
        await own.available(theirs, [(i, r) for i in their_ids for r in regions])
    assert await remote.available(ours, [(999_999, REGION)]) == [0]  # not the shop's SKU
    their_codes = {s.code for s in await stock.their_goods.skus_by_id(theirs, sorted(await own.skus_in_stock(theirs, REGION)))}
    in_stock = await remote.skus_in_stock(ours, REGION)
    assert {s.code for s in await stock.our_goods.skus_by_id(ours, sorted(in_stock))} == their_codes
    assert await remote.warehouses(ours) == await own.warehouses(theirs)
    codes = [w.code for w in await own.warehouses(theirs)]
    units = await own.units(theirs, their_ids, codes)
    assert await remote.units(ours, our_ids, codes) == {o: units[t] for o, t in zip(our_ids, their_ids)}
    levels = await remote.levels(ours, our_ids[0])
    assert levels and [(lv.sku_id, lv.available) for lv in levels] == \
        [(our_ids[0], lv.available) for lv in await own.levels(theirs, their_ids[0])]
    with pytest.raises(StockKeptRemotely):
        await remote.set_available(ours, our_ids[0], codes[0], 3)


async def test_a_reservation_is_idempotent_by_its_ref_and_moves_once(stock):
    remote, ours, own, theirs = stock.remote, stock.ours, stock.own, stock.theirs
    watch, their_watch = stock.our_ids[0], stock.their_ids[0]
    before = await own.available(theirs, [(their_watch, REGION)])
    expires = utcnow() + timedelta(minutes=15)
    held = await remote.reserve(ours, "JM-1001", 9, REGION, [WantedLine(watch, 1, 1)], expires)
    again = await remote.reserve(ours, "JM-1001", 9, REGION, [WantedLine(watch, 1, 1)], expires)
    assert again == held and held.shop_id == ours and held.state is ReservationState.ACTIVE
    assert [ln.sku_id for ln in held.lines] == [watch]
    assert await own.available(theirs, [(their_watch, REGION)]) == [before[0] - 1]  # held once
    assert await remote.reservation_by_ref(ours, "JM-1001") == held
    assert await remote.commit(ours, held.id) and not await remote.commit(ours, held.id)
    assert await remote.release(ours, held.id) and not await remote.release(ours, held.id)
    assert await own.available(theirs, [(their_watch, REGION)]) == before
    assert (await remote.reservation(ours, held.id)).state is ReservationState.RELEASED  # type: ignore[union-attr]
    assert await remote.reservation_by_ref(ours, "JM-404") is None


async def test_a_release_by_ref_gives_back_what_it_holds_and_a_later_reserve_of_it_holds_nothing(stock):
    remote, ours, own, theirs = stock.remote, stock.ours, stock.own, stock.theirs
    watch, their_watch = stock.our_ids[0], stock.their_ids[0]
    before = await own.available(theirs, [(their_watch, REGION)])
    expires = utcnow() + timedelta(minutes=15)
    # a ref holding a unit: given back, once
    await remote.reserve(ours, "JM-R1", None, REGION, [WantedLine(watch, 1)], expires)
    assert await remote.release_ref(ours, "JM-R1") is True and await remote.release_ref(ours, "JM-R1") is False
    assert await own.available(theirs, [(their_watch, REGION)]) == before
    # a ref holding nothing yet (its reserve still on the way): kept as released by the merchant
    assert await remote.release_ref(ours, "JM-R2") is False
    with pytest.raises(RemoteUnavailable, match="RELEASED reservation, not a hold"):
        await remote.reserve(ours, "JM-R2", None, REGION, [WantedLine(watch, 1)], expires)
    assert await own.available(theirs, [(their_watch, REGION)]) == before
    kept = await own.reservation_by_ref(theirs, "JM-R2")
    assert kept is not None and (kept.state, kept.lines) == (ReservationState.RELEASED, ())


async def test_out_of_stock_names_the_skus_and_holds_nothing(stock):
    remote, ours, own, theirs, their_ids = stock.remote, stock.ours, stock.own, stock.theirs, stock.their_ids
    watch, strap = stock.our_ids
    before = await own.available(theirs, [(i, REGION) for i in their_ids])
    with pytest.raises(OutOfStock) as refused:
        await remote.reserve(ours, "JM-2", None, REGION, [WantedLine(strap, 1), WantedLine(watch, 10_000)],
                             utcnow() + timedelta(minutes=15))
    assert refused.value.sku_ids == [watch]
    assert await own.available(theirs, [(i, REGION) for i in their_ids]) == before
    assert await remote.reservation_by_ref(ours, "JM-2") is None


async def test_a_failing_merchant_is_called_once_for_a_write(stock):
    merchant, remote, ours, watch = stock.merchant, stock.remote, stock.ours, stock.our_ids[0]
    merchant.behave(mode="fail")
    with pytest.raises(RemoteUnavailable) as failed:
        await remote.reserve(ours, "JM-3", None, REGION, [WantedLine(watch, 1)], utcnow() + timedelta(minutes=5))
    assert failed.value.capability == "inventory" and merchant.calls() == 1
    with pytest.raises(RemoteUnavailable):
        await remote.available(ours, [(watch, REGION)])
    assert merchant.calls() == 4  # a read: tried three times


async def test_the_merchant_gives_back_a_reservation_at_its_expiry(stock):
    # a reserve that reached the merchant after jimu gave the order up holds only until expiresAt
    remote, ours, own, theirs = stock.remote, stock.ours, stock.own, stock.theirs
    watch, their_watch = stock.our_ids[0], stock.their_ids[0]
    before = await own.available(theirs, [(their_watch, REGION)])
    held = await remote.reserve(ours, "JM-LATE", None, REGION, [WantedLine(watch, 1, 1)], utcnow() + timedelta(seconds=1))
    assert await own.available(theirs, [(their_watch, REGION)]) == [before[0] - 1]
    for _ in range(50):
        if (await remote.reservation(ours, held.id)).state is ReservationState.EXPIRED:  # type: ignore[union-attr]
            break
        await asyncio.sleep(0.1)
    assert (await remote.reservation(ours, held.id)).state is ReservationState.EXPIRED  # type: ignore[union-attr]
    assert await own.available(theirs, [(their_watch, REGION)]) == before


async def test_the_merchant_refuses_a_call_signed_for_another_shop(stock):
    async with httpx.AsyncClient() as http:
        other = HttpInventory(RemoteClient(http, timeout=TIMEOUT), Endpoint(stock.ours, "panda", "inventory",
                                                                        stock.merchant.url, stock.merchant.secret),
                              stock.our_goods)
        with pytest.raises(RemoteUnavailable):
            await other.reservation_by_ref(stock.ours, "JM-1001")
