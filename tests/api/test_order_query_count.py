"""A page of orders costs the same SQL statements for 3 orders as for 12."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import event

from adapters.db import Database, utcnow
from adapters.orders.port import CartLine
from adapters.shops.rules import hash_key
from gateway.auth import ShopperTokens
from gateway.settings import Settings
from gateway.wiring import Adapters, checkout_for
from tests.conftest import api_client, make_gql

ORDERS = """{ me { orders(first: 20) { totalCount nodes {
  number status cost { total { amount } balanceDue { amount } }
  lines { quantity sku { code product { handle } } }
  coupons { state }
  delivery { tier fee { amount } slot { startsAt } events { kind at } }
} } } }"""


async def statements_for(settings: Settings, adapters: Adapters, db: Database, orders: int) -> int:
    found = await adapters.shops.shop_for_key(hash_key("pk_demo_panda"))
    assert found is not None
    shop = found[0]
    shopper = await adapters.shops.shopper_for_subject(shop.id, f"dev:regular-{orders}")
    skus = [s for s in await adapters.goods.skus_by_code(shop.id, ["WIPES-80X6"]) if s]
    checkout = checkout_for(adapters, settings)
    for n in range(orders):
        cart = await adapters.orders.create_cart(shop.id, shopper.id)
        cart = await adapters.orders.save_cart(replace(
            cart, lines=tuple(CartLine(None, s.id, 1) for s in skus), region="1_72_2799_0", tier="STANDARD"))
        await checkout.complete(cart, f"k{n}", shop.online_payment_cap, None, None, utcnow())
    token = ShopperTokens(settings.secret, settings.token_ttl_seconds).issue(shop.id, shopper.id)
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            seen.append(statement)

    async with api_client(settings, adapters) as client:
        gql = make_gql(client)
        await gql(ORDERS, token=token)  # the key cached, as in a running server
        event.listen(db.engine.sync_engine, "before_cursor_execute", record)
        try:
            body = await gql(ORDERS, token=token)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    page = body["data"]["me"]["orders"]
    assert page["totalCount"] == orders and len(page["nodes"]) == orders
    assert all(len(o["lines"]) == 1 and o["delivery"]["events"] == [{"kind": "CREATED", "at": o["delivery"]["events"][0]["at"]}]
               for o in page["nodes"])
    return len(seen)


async def test_three_and_twelve_orders_cost_the_same_statements(settings: Settings, demo: Adapters, db: Database):
    three = await statements_for(settings, demo, db, 3)
    twelve = await statements_for(settings, demo, db, 12)
    # shopper, count, page, SKUs, products, delivery records, their events: nothing per order
    assert three == twelve == 7, (three, twelve)
