"""WeChat Pay end to end: orderPay prepays, the notification webhook pays the deposit, the sweep reconciles."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from adapters.db import utcnow
from adapters.delivery.port import QuoteLine
from adapters.orders.port import BalanceMethod, CartLine, PaymentPlan, PaymentStatus
from adapters.shops.rules import hash_key
from gateway.auth import ShopperTokens
from gateway.settings import Settings
from gateway.wiring import Adapters, cashier_for, checkout_for
from tests.conftest import api_client, codes, make_gql
from tests.unit.test_wechat_pay import (
    API_V3_KEY,
    Keys,
    keys,
    notification,
    pem_private,
    pem_public,
)

PAY = """mutation($n: String!, $k: String!) { orderPay(orderNumber: $n, idempotencyKey: $k) {
  session { payment { id method amount { minorUnits } } clientParams } userErrors { code message } } }"""

__all__ = ["keys"]  # the module-scoped key fixture, shared with the unit tests


@pytest.fixture
def wechat_settings(settings: Settings, keys: Keys, tmp_path: Path) -> Settings:
    (tmp_path / "merchant.pem").write_bytes(pem_private(keys.merchant))
    (tmp_path / "platform.pem").write_bytes(pem_public(keys.platform))
    return replace(settings, payment_provider="WECHAT_PAY", wechat_app_id="wx-app", wechat_app_secret="s",
                   wechat_pay_mch_id="1900000001", wechat_pay_serial_no="SERIAL-1",
                   wechat_pay_private_key_file=str(tmp_path / "merchant.pem"),
                   wechat_pay_platform_key_file=str(tmp_path / "platform.pem"),
                   wechat_pay_api_v3_key=API_V3_KEY.decode(), wechat_pay_notify_url="https://x/webhooks/payments/wechat")


async def deposit_order(adapters: Adapters, settings: Settings, subject: str) -> tuple[int, str, str]:
    """(shop id, order number, shopper token) for a steel-watch deposit order of a WeChat shopper."""
    found = await adapters.shops.shop_for_key(hash_key("pk_demo_aurelian"))
    assert found is not None
    shop = found[0]
    [watch] = await adapters.goods.skus_by_code(shop.id, ["WATCH-RG41-STEEL"])
    assert watch is not None
    shopper = await adapters.shops.shopper_for_subject(shop.id, subject)
    [options] = await adapters.delivery.quote(shop.id, [("1_72_2799_0", [QuoteLine(watch.id, watch.price, 1, True)])],
                                              utcnow())
    cart = await adapters.orders.create_cart(shop.id, shopper.id)
    cart = await adapters.orders.save_cart(replace(
        cart, lines=(CartLine(None, watch.id, 1),), region="1_72_2799_0", tier="PREMIUM",
        slot_id=options[0].slots[0].id, plan=PaymentPlan.DEPOSIT, balance_method=BalanceMethod.POS_ON_DELIVERY))
    order = await checkout_for(adapters, settings).complete(cart, "k", shop.online_payment_cap, None, None, utcnow())
    token = ShopperTokens(settings.secret, settings.token_ttl_seconds).issue(shop.id, shopper.id)
    return shop.id, order.number, token


async def test_a_deposit_paid_through_wechat_pay(demo: Adapters, wechat_settings: Settings, keys: Keys):
    # given WeChat Pay answering prepay requests
    prepaid: list[dict] = []

    def wechat(request: httpx.Request) -> httpx.Response:
        prepaid.append(json.loads(request.content))
        return httpx.Response(200, json={"prepay_id": "wx-prepay-1"})

    adapters = replace(demo, http=httpx.AsyncClient(transport=httpx.MockTransport(wechat)))
    shop_id, number, token = await deposit_order(adapters, wechat_settings, "wx:o-collector")
    async with api_client(wechat_settings, adapters) as client:
        gql = make_gql(client)
        # when the shopper pays: a prepay for the deposit, and the sheet's parameters
        session = (await gql(PAY, {"n": number, "k": "wx-1"}, key="pk_demo_aurelian", token=token))["data"][
            "orderPay"]["session"]
        assert session["payment"]["method"] == "WECHAT_PAY" and session["clientParams"]["package"] == "prepay_id=wx-prepay-1"
        assert prepaid[0]["payer"] == {"openid": "o-collector"} and prepaid[0]["amount"]["total"] == 1_000_000
        payment_id = int(session["payment"]["id"].rsplit("/", 1)[1])
        transaction = {"out_trade_no": f"jimu-{payment_id}", "transaction_id": "42000", "mchid": "1900000001",
                       "trade_state": "SUCCESS", "amount": {"total": 1_000_000, "currency": "CNY"}}
        # then a forged notification changes nothing, and WeChat Pay's own pays the deposit, once
        forged_headers, forged_body = notification(keys, transaction, signer=keys.merchant)
        assert (await client.post("/webhooks/payments/wechat", content=forged_body, headers=forged_headers)).status_code == 401
        headers, body = notification(keys, transaction)
        assert (await client.post("/webhooks/payments/wechat", content=body, headers=headers)).status_code == 204
        assert (await client.post("/webhooks/payments/wechat", content=body, headers=headers)).status_code == 204
        wrong_headers, wrong_body = notification(keys, {**transaction, "amount": {"total": 1}})
        assert (await client.post("/webhooks/payments/wechat", content=wrong_body, headers=wrong_headers)).status_code == 400
    [order] = await adapters.orders.orders_by_number(shop_id, [number])
    assert order is not None and (order.payment_status, order.paid) == (PaymentStatus.DEPOSIT_PAID, 1_000_000)


async def test_a_shopper_not_signed_in_through_wechat_cannot_pay_with_it(demo: Adapters, wechat_settings: Settings):
    adapters = replace(demo, http=httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500))))
    _, number, token = await deposit_order(adapters, wechat_settings, "dev:no-wechat")
    async with api_client(wechat_settings, adapters) as client:
        answer = await make_gql(client)(PAY, {"n": number, "k": "wx-1"}, key="pk_demo_aurelian", token=token)
    assert [e["code"] for e in answer["data"]["orderPay"]["userErrors"]] == ["INVALID_STATE"]


async def test_wechat_pay_down_is_service_unavailable(demo: Adapters, wechat_settings: Settings):
    adapters = replace(demo, http=httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(503))))
    _, number, token = await deposit_order(adapters, wechat_settings, "wx:o-unlucky")
    async with api_client(wechat_settings, adapters) as client:
        answer = await make_gql(client)(PAY, {"n": number, "k": "wx-1"}, key="pk_demo_aurelian", token=token)
    assert codes(answer) == ["SERVICE_UNAVAILABLE"]


async def test_the_sweep_asks_wechat_pay_about_a_silent_payment(demo: Adapters, wechat_settings: Settings):
    # given a payment whose notification never came, and WeChat Pay saying it succeeded
    def wechat(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"prepay_id": "wx-prepay-2"})
        trade_no = request.url.path.rsplit("/", 1)[1]
        return httpx.Response(200, json={"out_trade_no": trade_no, "mchid": "1900000001", "trade_state": "SUCCESS",
                                         "transaction_id": "42001", "amount": {"total": 1_000_000}})

    adapters = replace(demo, http=httpx.AsyncClient(transport=httpx.MockTransport(wechat)))
    shop_id, number, _ = await deposit_order(adapters, wechat_settings, "wx:o-quiet")
    cashier = cashier_for(adapters, wechat_settings)
    [order] = await adapters.orders.orders_by_number(shop_id, [number])
    assert order is not None
    await cashier.pay(order, "wx-silent", 5_000_000, "o-quiet", utcnow())
    # when the sweep runs after a while
    assert (await cashier.sweep(utcnow())).reconciled == [], "not before the sheet had its time"
    swept = await cashier.sweep(utcnow() + timedelta(minutes=3))
    # then the payment is settled from WeChat Pay's answer
    assert len(swept.reconciled) == 1
    [order] = await adapters.orders.orders_by_number(shop_id, [number])
    assert order is not None and order.payment_status is PaymentStatus.DEPOSIT_PAID and order.committed
    reservation = await adapters.inventory.reservation_by_ref(shop_id, number)
    assert reservation is not None and reservation.state.value == "COMMITTED"
