"""The goods of a shop served by the reference merchant system, a real process: what the HTTP
adapter answers is what the merchant's own SQL holds, and a merchant answering slowly,
failing or wrongly is unavailable, never believed."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import httpx
import pytest

from adapters.db import Database
from adapters.goods.http import HttpGoodsCatalog
from adapters.goods.port import ProductQuery, SortKey
from adapters.goods.sql import SqlGoodsCatalog
from adapters.paging import Window
from adapters.remote.client import Endpoint, RemoteClient, RemoteUnavailable
from adapters.remote.signing import signed_headers
from adapters.shops.sql import SqlShopStore

JIMU_SHOP_ID = 42  # jimu's id for the shop: the merchant's own ids of its goods are kept as they are


def mine(found: Any) -> Any:
    """The merchant's answer as jimu's shop holds it (its shop id, not the merchant's)."""
    if isinstance(found, list):
        return [mine(f) for f in found]
    if isinstance(found, tuple):
        return tuple(mine(f) for f in found)
    return replace(found, shop_id=JIMU_SHOP_ID) if hasattr(found, "shop_id") else found


@pytest.fixture
async def both(merchant_system):
    merchant = merchant_system()
    db = Database(merchant.database_url)
    [shop] = await SqlShopStore(db).shops_by_handle(["aurelian"])
    async with httpx.AsyncClient() as http:
        client = RemoteClient(http, timeout=0.8)
        remote = HttpGoodsCatalog(client, Endpoint(JIMU_SHOP_ID, "aurelian", "goods", merchant.url, merchant.secret))
        yield merchant, remote, SqlGoodsCatalog(db), shop.id, client
    await db.dispose()


async def test_every_read_answers_what_the_merchant_holds(both):
    merchant, remote, own, shop_id, _ = both
    products = (await own.search_products(shop_id, ProductQuery(), Window(size=50))).items
    ids = [p.id for p, _ in products] + [999_999]
    assert await remote.products_by_id(JIMU_SHOP_ID, ids) == mine(await own.products_by_id(shop_id, ids))
    handles = [p.handle for p, _ in products] + ["nope"]
    assert await remote.products_by_handle(JIMU_SHOP_ID, handles) == mine(await own.products_by_handle(shop_id, handles))
    skus = [s for lists in await own.skus_by_product(shop_id, ids[:-1]) for s in lists]
    assert skus and await remote.skus_by_product(JIMU_SHOP_ID, ids) == mine(await own.skus_by_product(shop_id, ids))
    codes = [s.code for s in skus] + ["NOPE"]
    assert await remote.skus_by_code(JIMU_SHOP_ID, codes) == mine(await own.skus_by_code(shop_id, codes))
    assert await remote.skus_by_id(JIMU_SHOP_ID, [s.id for s in skus]) == mine(skus)
    assert await remote.categories(JIMU_SHOP_ID) == mine(await own.categories(shop_id))
    assert any(s.deposit_policy for s in skus)  # the deposit terms travel too


@pytest.mark.parametrize("sort", list(SortKey))
async def test_search_pages_and_counts_as_the_merchants_own(both, sort: SortKey):
    _, remote, own, shop_id, _ = both
    query = ProductQuery(sort=sort, reverse=sort is SortKey.PRICE)
    assert await remote.count_products(JIMU_SHOP_ID, query) == await own.count_products(shop_id, query)
    window = Window(size=1)
    while True:  # page by page, with the cursors the remote gave
        page, theirs = await remote.search_products(JIMU_SHOP_ID, query, window), await own.search_products(shop_id, query, window)
        assert page.items == [(mine(p), at) for p, at in theirs.items]
        assert (page.has_next_page, page.has_previous_page) == (theirs.has_next_page, theirs.has_previous_page)
        if not page.has_next_page:
            break
        window = Window(size=1, after=page.items[-1][1])


@pytest.mark.parametrize("mode", ["fail", "garbage", "wrong-ids", "duplicates"])
async def test_a_merchant_answering_wrongly_is_unavailable(both, mode: str):
    merchant, remote, own, shop_id, _ = both
    [first, *_] = [p for p, _ in (await own.search_products(shop_id, ProductQuery(), Window(size=5))).items]
    merchant.behave(mode=mode)
    with pytest.raises(RemoteUnavailable) as failed:
        if mode == "duplicates":
            await remote.search_products(JIMU_SHOP_ID, ProductQuery(), Window(size=5))
        else:
            await remote.products_by_id(JIMU_SHOP_ID, [first.id])
    assert failed.value.capability == "goods"


async def test_a_slow_merchant_costs_the_timeout_and_a_dead_one_is_not_called_for_a_while(both):
    merchant, remote, _, _, client = both
    merchant.behave(delay=3.0)
    started = time.monotonic()
    with pytest.raises(RemoteUnavailable):
        await remote.categories(JIMU_SHOP_ID)
    assert time.monotonic() - started < 2.0  # the 0.8 s budget, not the merchant's 3 s
    merchant.behave(mode="fail")
    for _ in range(3):
        with pytest.raises(RemoteUnavailable):
            await remote.categories(JIMU_SHOP_ID)
    before = merchant.calls()
    with pytest.raises(RemoteUnavailable):
        await remote.categories(JIMU_SHOP_ID)
    assert merchant.calls() == before  # the breaker answered


async def test_a_call_signed_with_another_secret_is_refused_by_the_merchant(both):
    merchant, _, _, _, client = both
    forged = HttpGoodsCatalog(client, Endpoint(7, "aurelian", "goods", merchant.url, "not-the-secret"))
    with pytest.raises(RemoteUnavailable) as refused:
        await forged.categories(7)
    assert "HTTP 401" in str(refused.value)


async def test_a_call_captured_and_replayed_on_another_path_or_shop_is_refused_by_the_merchant(both):
    merchant = both[0]
    body, stamp = b"{}", int(time.time())
    # given a well-signed call to /v1/categories, as captured on the wire
    headers = signed_headers(merchant.secret, "aurelian", stamp, "/v1/categories", body)
    async with httpx.AsyncClient(base_url=merchant.url) as http:
        assert (await http.post("/v1/categories", content=body, headers=headers)).status_code == 200
        # when its bytes and headers are sent to another path, or named as another shop's
        other_path = await http.post("/v1/warehouses", content=body, headers=headers)
        other_shop = await http.post("/v1/categories", content=body, headers={**headers, "X-Jimu-Shop": "panda"})
    # then the merchant refuses both
    assert (other_path.status_code, other_shop.status_code) == (401, 401)
