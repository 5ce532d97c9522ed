"""The stock of a shop kept by the reference merchant system, a real process: reads as its own
SQL answers them, reservations idempotent by their ref, refusals as the port's errors, and a
write never retried by the adapter itself."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from adapters.db import Database, utcnow
from adapters.goods.sql import SqlGoodsCatalog
from adapters.inventory.http import HttpInventory, StockKeptRemotely
from adapters.inventory.port import OutOfStock, ReservationState, WantedLine
from adapters.inventory.sql import SqlInventory
from adapters.remote.client import Endpoint, RemoteClient, RemoteUnavailable
from adapters.shops.sql import SqlShopStore

JIMU_SHOP_ID = 42
REGION = "1_72_2799_0"


@pytest.fixture
async def stock(merchant_system):
    merchant = merchant_system()
    db = Database(merchant.database_url)
    [shop] = await SqlShopStore(db).shops_by_handle(["aurelian"])
    skus = await SqlGoodsCatalog(db).skus_by_code(shop.id, ["WATCH-RG41-STEEL", "STRAP-ALLI-BLK"])
    async with httpx.AsyncClient() as http:
        remote = HttpInventory(RemoteClient(http, timeout=0.8),
                               Endpoint(JIMU_SHOP_ID, "aurelian", "inventory", merchant.url, merchant.secret))
        yield merchant, remote, SqlInventory(db), shop.id, [s.id for s in skus]
    await db.dispose()


async def test_reads_answer_what_the_merchant_holds(stock):
    _, remote, own, shop_id, ids = stock
    keys = [(i, REGION) for i in ids] + [(ids[0], None), (ids[0], "19")]
    assert await remote.available(JIMU_SHOP_ID, keys) == await own.available(shop_id, keys)
    assert await remote.skus_in_stock(JIMU_SHOP_ID, REGION) == await own.skus_in_stock(shop_id, REGION)
    assert await remote.warehouses(JIMU_SHOP_ID) == await own.warehouses(shop_id)
    codes = [w.code for w in await own.warehouses(shop_id)]
    assert await remote.units(JIMU_SHOP_ID, ids, codes) == await own.units(shop_id, ids, codes)
    assert await remote.levels(JIMU_SHOP_ID, ids[0]) == await own.levels(shop_id, ids[0])
    with pytest.raises(StockKeptRemotely):
        await remote.set_available(JIMU_SHOP_ID, ids[0], codes[0], 3)


async def test_a_reservation_is_idempotent_by_its_ref_and_moves_once(stock):
    _, remote, own, shop_id, [watch, strap] = stock
    before = await own.available(shop_id, [(watch, REGION)])
    expires = utcnow() + timedelta(minutes=15)
    held = await remote.reserve(JIMU_SHOP_ID, "JM-1001", 9, REGION, [WantedLine(watch, 1, 1)], expires)
    again = await remote.reserve(JIMU_SHOP_ID, "JM-1001", 9, REGION, [WantedLine(watch, 1, 1)], expires)
    assert again == held and held.shop_id == JIMU_SHOP_ID and held.state is ReservationState.ACTIVE
    assert await own.available(shop_id, [(watch, REGION)]) == [before[0] - 1]  # held once
    assert await remote.reservation_by_ref(JIMU_SHOP_ID, "JM-1001") == held
    assert await remote.commit(JIMU_SHOP_ID, held.id) and not await remote.commit(JIMU_SHOP_ID, held.id)
    assert await remote.release(JIMU_SHOP_ID, held.id) and not await remote.release(JIMU_SHOP_ID, held.id)
    assert await own.available(shop_id, [(watch, REGION)]) == before
    assert (await remote.reservation(JIMU_SHOP_ID, held.id)).state is ReservationState.RELEASED  # type: ignore[union-attr]
    assert await remote.reservation_by_ref(JIMU_SHOP_ID, "JM-404") is None


async def test_out_of_stock_names_the_skus_and_holds_nothing(stock):
    _, remote, own, shop_id, [watch, strap] = stock
    before = await own.available(shop_id, [(watch, REGION), (strap, REGION)])
    with pytest.raises(OutOfStock) as refused:
        await remote.reserve(JIMU_SHOP_ID, "JM-2", None, REGION, [WantedLine(strap, 1), WantedLine(watch, 10_000)],
                             utcnow() + timedelta(minutes=15))
    assert refused.value.sku_ids == [watch]
    assert await own.available(shop_id, [(watch, REGION), (strap, REGION)]) == before
    assert await remote.reservation_by_ref(JIMU_SHOP_ID, "JM-2") is None


async def test_a_failing_merchant_is_called_once_for_a_write(stock):
    merchant, remote, _, _, [watch, _] = stock
    merchant.behave(mode="fail")
    with pytest.raises(RemoteUnavailable) as failed:
        await remote.reserve(JIMU_SHOP_ID, "JM-3", None, REGION, [WantedLine(watch, 1)], utcnow() + timedelta(minutes=5))
    assert failed.value.capability == "inventory" and merchant.calls() == 1
    with pytest.raises(RemoteUnavailable):
        await remote.available(JIMU_SHOP_ID, [(watch, REGION)])
    assert merchant.calls() == 4  # a read: tried three times
