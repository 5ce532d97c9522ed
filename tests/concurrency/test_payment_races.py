"""50 taps on "pay" with one key, through 4 uvicorn workers: one payment."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import replace

import httpx

from adapters.db import utcnow
from adapters.delivery.port import QuoteLine
from adapters.orders.port import BalanceMethod, CartLine, PaymentPlan
from adapters.payments.sandbox import sign
from adapters.shops.rules import hash_key
from gateway.auth import ShopperTokens
from gateway.settings import Settings
from gateway.wiring import Adapters, checkout_for
from tests.conftest import load_demo

PAY = """mutation($n: String!) { orderPay(orderNumber: $n, idempotencyKey: "tap") {
  session { payment { id amount { minorUnits } } } userErrors { code } } }"""


async def test_fifty_concurrent_pays_with_one_key_make_one_payment_and_one_deposit(
    settings: Settings, sql: Adapters, server: str
):
    # given a checked-out deposit order for the steel watch
    await load_demo(sql)
    found = await sql.shops.shop_for_key(hash_key("pk_demo_aurelian"))
    assert found is not None
    shop = found[0]
    [watch] = await sql.goods.skus_by_code(shop.id, ["WATCH-RG41-STEEL"])
    assert watch is not None
    shopper = await sql.shops.shopper_for_subject(shop.id, "dev:eager")
    cart = await sql.orders.create_cart(shop.id, shopper.id)
    cart = await sql.orders.save_cart(replace(
        cart, lines=(CartLine(None, watch.id, 1),), region="1_72_2799_0", tier="PREMIUM",
        slot_id=(await premium_slot(sql, shop.id, watch.id)), plan=PaymentPlan.DEPOSIT,
        balance_method=BalanceMethod.POS_ON_DELIVERY))
    order = await checkout_for(sql, settings).complete(cart, "k", shop.online_payment_cap, None, None, utcnow())
    token = ShopperTokens(settings.secret, settings.token_ttl_seconds).issue(shop.id, shopper.id)

    # when the pay button is tapped 50 times at once
    async def tap(client: httpx.AsyncClient) -> str:
        response = await client.post("/graphql", json={"query": PAY, "variables": {"n": order.number}},
                                     headers={"X-Jimu-Key": "pk_demo_aurelian", "Authorization": f"Bearer {token}"})
        payload = response.json()["data"]["orderPay"]
        return payload["session"]["payment"]["id"] if payload["session"] else payload["userErrors"][0]["code"]

    async with httpx.AsyncClient(base_url=server, timeout=120) as client:
        answers = Counter(await asyncio.gather(*(tap(client) for _ in range(50))))
        # then one payment for all of them
        assert len(answers) == 1, answers
        [payment_id] = answers
        [payments] = await sql.ledger.payments_of(shop.id, [order.number])
        assert [(p.kind.value, p.amount, p.state.value) for p in payments] == [("DEPOSIT", 1_000_000, "PENDING")]
        # and its notification, delivered 20 times at once by an eager provider, pays the deposit once
        body = json.dumps({"paymentId": payment_id, "status": "SUCCEEDED", "amountMinor": 1_000_000}).encode()
        headers = {"X-Jimu-Signature": sign(settings.sandbox_pay_secret or "", body)}
        notified = await asyncio.gather(*(client.post("/webhooks/payments/sandbox", content=body, headers=headers)
                                          for _ in range(20)))
    assert [r.status_code for r in notified] == [200] * 20
    assert sum(r.json()["changed"] for r in notified) == 1
    [paid] = await sql.orders.orders_by_number(shop.id, [order.number])
    assert paid is not None and (paid.paid, paid.payment_status.value) == (1_000_000, "DEPOSIT_PAID")


async def premium_slot(sql: Adapters, shop_id: int, sku_id: int) -> int:
    [options] = await sql.delivery.quote(shop_id, [("1_72_2799_0", [QuoteLine(sku_id, 13_000_000, 1, True)])], utcnow())
    return options[0].slots[0].id
