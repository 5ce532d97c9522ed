"""100 buyers check out the last 10 units at once, through 4 uvicorn worker processes.

The real server, the real HTTP path and the suite's database (SQLite by
default, PostgreSQL in .ci/run): exactly 10 orders, and stock at zero.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import httpx

from adapters.db import utcnow
from adapters.goods.port import Sku
from adapters.orders.port import CartLine, OrderState
from adapters.paging import Window
from adapters.shops.port import Shop
from adapters.shops.rules import hash_key
from gateway.auth import ShopperTokens
from gateway.settings import Settings
from gateway.wiring import Adapters, checkout_for
from tests.concurrency.test_inventory_races import run_all
from tests.conftest import load_demo

BUYERS = 100
UNITS = 10
WORKERS = 4
REGION = "1_72_2799_0"
CHECKOUT = """mutation($id: ID!) { checkoutComplete(cartId: $id, idempotencyKey: "race") {
  order { number } userErrors { code } } }"""


async def panda_wipes(sql: Adapters) -> tuple[Shop, Sku]:
    """The demo loaded; Panda Care and its wipes."""
    await load_demo(sql)
    found = await sql.shops.shop_for_key(hash_key("pk_demo_panda"))
    assert found is not None
    [wipes] = await sql.goods.skus_by_code(found[0].id, ["WIPES-80X6"])
    assert wipes is not None
    return found[0], wipes


async def test_100_buyers_for_the_last_10_units_make_exactly_10_orders(settings: Settings, sql: Adapters, server: str):
    # given the last 10 packs of wipes in Beijing, and 100 carts that want one each
    shop, wipes = await panda_wipes(sql)
    await sql.inventory.set_available(shop.id, wipes.id, "BJ-01", UNITS)
    tokens = ShopperTokens(settings.secret, settings.token_ttl_seconds)
    buyers = []
    for n in range(BUYERS):
        shopper = await sql.shops.shopper_for_subject(shop.id, f"dev:buyer-{n}")
        cart = await sql.orders.create_cart(shop.id, shopper.id)
        await sql.orders.save_cart(replace(cart, lines=(CartLine(None, wipes.id, 1),), region=REGION, tier="STANDARD"))
        buyers.append((tokens.issue(shop.id, shopper.id), f"gid://jimu/Cart/{cart.token}"))

    # when they all check out at once
    async def buy(client: httpx.AsyncClient, token: str, cart_id: str) -> str:
        response = await client.post(
            "/graphql", json={"query": CHECKOUT, "variables": {"id": cart_id}},
            headers={"X-Jimu-Key": "pk_demo_panda", "Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        payload = body["data"]["checkoutComplete"]
        return "ordered" if payload["order"] else payload["userErrors"][0]["code"]

    limits = httpx.Limits(max_connections=BUYERS)
    async with httpx.AsyncClient(base_url=server, timeout=120, limits=limits) as client:
        outcomes = Counter(await asyncio.gather(*(buy(client, t, c) for t, c in buyers)))

    # then exactly 10 orders, the rest told it is out of stock, nothing left and nothing pending
    assert outcomes == {"ordered": UNITS, "OUT_OF_STOCK": BUYERS - UNITS}
    page = await sql.orders.orders_page(shop.id, None, None, Window(100))
    assert page.total_count == UNITS and all(o.state is OrderState.OPEN for o in page.orders)
    assert len({o.number for o in page.orders}) == UNITS
    [left] = await sql.inventory.available(shop.id, [(wipes.id, REGION)])
    assert left == 0
    [level] = [lv for lv in await sql.inventory.levels(shop.id, wipes.id) if lv.warehouse_code == "BJ-01"]
    assert (level.reserved, level.sold) == (UNITS, 0)
    assert await sql.orders.fail_stale(utcnow(), 100) == [], "no checkout was left half-done"


async def test_one_cart_checked_out_30_times_at_once_with_one_key_makes_one_order(
    settings: Settings, sql: Adapters, server: str
):
    # given one cart
    shop, wipes = await panda_wipes(sql)
    [before] = await sql.inventory.available(shop.id, [(wipes.id, REGION)])
    shopper = await sql.shops.shopper_for_subject(shop.id, "dev:impatient")
    cart = await sql.orders.create_cart(shop.id, shopper.id)
    await sql.orders.save_cart(replace(cart, lines=(CartLine(None, wipes.id, 1),), region=REGION, tier="STANDARD"))
    token = ShopperTokens(settings.secret, settings.token_ttl_seconds).issue(shop.id, shopper.id)

    # when the buy button is hit 30 times at once, always with the same key
    async def buy(client: httpx.AsyncClient) -> str:
        response = await client.post(
            "/graphql", json={"query": CHECKOUT, "variables": {"id": f"gid://jimu/Cart/{cart.token}"}},
            headers={"X-Jimu-Key": "pk_demo_panda", "Authorization": f"Bearer {token}"},
        )
        payload = response.json()["data"]["checkoutComplete"]
        return payload["order"]["number"] if payload["order"] else payload["userErrors"][0]["code"]

    async with httpx.AsyncClient(base_url=server, timeout=120) as client:
        answers = await asyncio.gather(*(buy(client) for _ in range(30)))

    # then every answer is the one order, holding one unit
    assert len(set(answers)) == 1 and answers[0].isdigit(), Counter(answers)
    assert (await sql.orders.orders_page(shop.id, shopper.id, None, Window(10))).total_count == 1
    [after] = await sql.inventory.available(shop.id, [(wipes.id, REGION)])
    assert after == before - 1


async def test_sweepers_in_three_processes_expire_each_order_once(database_url: str, settings: Settings, sql: Adapters):
    # given 12 unpaid orders
    shop, wipes = await panda_wipes(sql)
    [before] = await sql.inventory.available(shop.id, [(wipes.id, REGION)])
    checkout = checkout_for(sql, settings)
    for n in range(12):
        shopper = await sql.shops.shopper_for_subject(shop.id, f"dev:late-{n}")
        cart = await sql.orders.create_cart(shop.id, shopper.id)
        cart = await sql.orders.save_cart(replace(cart, lines=(CartLine(None, wipes.id, 1),), region=REGION,
                                                  tier="STANDARD"))
        await checkout.complete(cart, "k", shop.online_payment_cap, None, None, utcnow())
    # when three processes sweep after the TTL
    later = utcnow() + timedelta(seconds=settings.reservation_ttl_seconds + 1)
    results = run_all([("sweep_orders", (database_url, later)) for _ in range(3)])
    # then each order was expired by one sweeper, and each unit came back once
    expired = [number for _, batch in results for number in batch]
    assert len(expired) == 12 and len(set(expired)) == 12
    [after] = await sql.inventory.available(shop.id, [(wipes.id, REGION)])
    assert after == before
    page = await sql.orders.orders_page(shop.id, None, OrderState.CANCELLED, Window(100))
    assert page.total_count == 12 and all(o.released for o in page.orders)
