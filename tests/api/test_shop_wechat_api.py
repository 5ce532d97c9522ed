"""Two shops, two WeChat apps and two merchants: each signs in its own shoppers against a fake
code2Session (a real HTTP server) and each verifies its own WeChat Pay notifications."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.db import Database, utcnow
from adapters.orders.port import CartLine, PaymentPlan, PaymentStatus
from adapters.shops.rules import hash_key
from adapters.wechat_accounts.port import DirectMerchant, MiniProgram, WechatAccount
from adapters.wechat_accounts.rules import seal
from adapters.wechat_accounts.secret_box import SecretBox, new_key
from gateway.auth import ShopperTokens
from gateway.settings import Settings
from gateway.wiring import Adapters, checkout_for, sql_adapters
from tests.api.test_wechat_pay_api import deposit_order
from tests.conftest import api_client, load_demo, make_gql
from tests.unit.test_wechat_pay import Keys, notification, pem_private, pem_public
from tests.wechat_server import FakeWechat, serving

LOGIN = """mutation($code: String!) { shopperLogin(code: $code) {
  token shopper { id } userErrors { code field message } } }"""
PAY = """mutation($n: String!, $k: String!) { orderPay(orderNumber: $n, idempotencyKey: $k) {
  session { payment { id } clientParams } userErrors { code message } } }"""
SECRET_KEY = new_key()
NOTIFY = "https://jimu.example/webhooks/payments/wechat"


@dataclass
class ShopSide:
    handle: str
    key: str
    app_id: str
    app_secret: str
    keys: Keys
    api_v3_key: bytes
    mch_id: str


@pytest.fixture(scope="module")
def fake_wechat() -> Iterator[FakeWechat]:
    with serving(FakeWechat({"wxaurelian0000001": "s-aurelian", "wxpanda000000002": "s-panda"})) as fake:
        yield fake


@pytest.fixture(scope="module")
def sides() -> dict[str, ShopSide]:
    def side(handle: str, key: str, app_id: str, secret: str, api_v3: bytes, mch_id: str) -> ShopSide:
        return ShopSide(handle, key, app_id, secret,
                        Keys(rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 2048)),
                        api_v3, mch_id)

    return {"aurelian": side("aurelian", "pk_demo_aurelian", "wxaurelian0000001", "s-aurelian", b"a" * 32, "1900000101"),
            "panda": side("panda-care", "pk_demo_panda", "wxpanda000000002", "s-panda", b"p" * 32, "1900000202")}


@pytest.fixture
def wx_settings(settings: Settings, fake_wechat: FakeWechat) -> Settings:
    fake_wechat.logins.clear()
    fake_wechat.prepays.clear()
    return replace(settings, payment_provider="WECHAT_PAY", wechat_pay_notify_url=NOTIFY,
                   wechat_api_base=fake_wechat.url, wechat_pay_api_base=fake_wechat.url, secret_keys=(SECRET_KEY,))


@pytest.fixture
async def shops(wx_settings: Settings, db: Database, sides: dict[str, ShopSide]) -> Adapters:
    """The demo shops, each with its own mini-program and merchant, stored sealed."""
    adapters = sql_adapters(wx_settings, db)
    await load_demo(adapters)
    for side in sides.values():
        await adapters.wechat.accounts.put(seal(WechatAccount(
            await shop_id(adapters, side.key), MiniProgram(side.app_id, side.app_secret),
            DirectMerchant(side.mch_id, f"SERIAL-{side.mch_id}", pem_private(side.keys.merchant),
                           pem_public(side.keys.platform), side.api_v3_key),
        ), SecretBox(wx_settings.secret_keys)))
    return adapters


async def shop_id(adapters: Adapters, key: str) -> int:
    found = await adapters.shops.shop_for_key(hash_key(key))
    assert found is not None
    return found[0].id


async def test_each_shop_signs_in_its_own_shoppers_with_its_own_app(shops: Adapters, wx_settings: Settings,
                                                                    fake_wechat: FakeWechat):
    async with api_client(wx_settings, shops) as client:
        gql = make_gql(client)
        # when the same code is brought to each shop
        aurelian = (await gql(LOGIN, {"code": "c-1"}, key="pk_demo_aurelian"))["data"]["shopperLogin"]
        panda = (await gql(LOGIN, {"code": "c-1"}, key="pk_demo_panda"))["data"]["shopperLogin"]
        dev = (await gql(LOGIN, {"code": "dev:still-works"}, key="pk_demo_panda"))["data"]["shopperLogin"]
        # then each shop asked WeChat with its own app id and secret, and knows the openid of its own app
        assert fake_wechat.logins == [("wxaurelian0000001", "s-aurelian", "c-1"), ("wxpanda000000002", "s-panda", "c-1")]
        assert aurelian["userErrors"] == [] and panda["userErrors"] == [] and dev["userErrors"] == []
        for payload, key, app_id in ((aurelian, "pk_demo_aurelian", "wxaurelian0000001"),
                                     (panda, "pk_demo_panda", "wxpanda000000002")):
            shopper = await shops.shops.shopper_for_subject(await shop_id(shops, key), f"wx:o-{app_id}-c-1")
            assert payload["shopper"]["id"].endswith(f"/{shopper.id}")

        # when the panda shop's secret is changed to one WeChat refuses (the cached sign-in is dropped)
        panda_id = await shop_id(shops, "pk_demo_panda")
        await shops.wechat.accounts.put(seal(WechatAccount(panda_id, MiniProgram("wxpanda000000002", "s-wrong")),
                                             SecretBox(wx_settings.secret_keys)))
        refused = (await gql(LOGIN, {"code": "c-2"}, key="pk_demo_panda"))["data"]["shopperLogin"]
        # then the shopper is told plainly, and nobody is signed in
        assert fake_wechat.logins[-1] == ("wxpanda000000002", "s-wrong", "c-2")
        assert refused["token"] is None and [e["code"] for e in refused["userErrors"]] == ["INVALID_STATE"]


async def order_of(adapters: Adapters, settings: Settings, key: str, sku_code: str, subject: str) -> tuple[str, str]:
    """(order number, shopper token) of a one-line order delivered to Beijing, paid in full."""
    shop = await shop_id(adapters, key)
    [sku] = await adapters.goods.skus_by_code(shop, [sku_code])
    assert sku is not None
    shopper = await adapters.shops.shopper_for_subject(shop, subject)
    cart = await adapters.orders.create_cart(shop, shopper.id)
    cart = await adapters.orders.save_cart(replace(cart, lines=(CartLine(None, sku.id, 1),), region="1_72_2799_0",
                                                   tier="STANDARD", plan=PaymentPlan.FULL))
    order = await checkout_for(adapters, settings).complete(cart, "k", 5_000_000, None, None, utcnow())
    return order.number, ShopperTokens(settings.secret, settings.token_ttl_seconds).issue(shop, shopper.id)


async def test_each_shop_takes_payments_through_its_own_merchant_and_verifies_its_own_notices(
    shops: Adapters, wx_settings: Settings, fake_wechat: FakeWechat, sides: dict[str, ShopSide],
):
    # given an order in each shop, by a shopper of that shop's mini-program
    _, watch, watch_token = await deposit_order(shops, wx_settings, "wx:o-a")
    orders = {"aurelian": (watch, watch_token),
              "panda": await order_of(shops, wx_settings, "pk_demo_panda", "DIAPER-L54", "wx:o-p")}
    async with api_client(wx_settings, shops) as client:
        gql = make_gql(client)
        payments = {}
        for name, (number, token) in orders.items():
            # when the shopper pays
            session = (await gql(PAY, {"n": number, "k": "pay-1"}, key=sides[name].key, token=token))["data"][
                "orderPay"]["session"]
            payments[name] = int(session["payment"]["id"].rsplit("/", 1)[1])
            assert session["clientParams"]["appId"] == sides[name].app_id
        # then each prepay went to the shop's own merchant, asking to be notified at the shop's own route
        assert [(body["mchid"], body["appid"], body["notify_url"]) for _, body in fake_wechat.prepays] == [
            ("1900000101", "wxaurelian0000001", f"{NOTIFY}/aurelian"),
            ("1900000202", "wxpanda000000002", f"{NOTIFY}/panda-care")]

        for name, other in (("aurelian", "panda"), ("panda", "aurelian")):
            side, body_total = sides[name], fake_wechat.prepays[0 if name == "aurelian" else 1][1]["amount"]["total"]
            transaction = {"out_trade_no": f"jimu-{payments[name]}", "transaction_id": f"42-{name}", "mchid": side.mch_id,
                           "trade_state": "SUCCESS", "amount": {"total": body_total, "currency": "CNY"}}
            headers, body = notification(side.keys, transaction, api_key=side.api_v3_key)
            # when WeChat Pay's notice for this shop's merchant arrives at the other shop's route: refused
            at_other = await client.post(f"/webhooks/payments/wechat/{sides[other].handle}", content=body, headers=headers)
            assert at_other.status_code == 401, at_other.text
            # ...and at the deployment's route, which has no merchant here: not found
            assert (await client.post("/webhooks/payments/wechat", content=body, headers=headers)).status_code == 404
            # and at its own: taken
            taken = await client.post(f"/webhooks/payments/wechat/{side.handle}", content=body, headers=headers)
            assert taken.status_code == 204, taken.text

        # a notice genuinely from aurelian's merchant about the panda shop's payment is not aurelian's to settle
        # (its amount is the panda payment's own, so only the shop check can refuse it)
        stray = {"out_trade_no": f"jimu-{payments['panda']}", "mchid": sides["aurelian"].mch_id, "trade_state": "SUCCESS",
                 "amount": {"total": fake_wechat.prepays[1][1]["amount"]["total"]}}
        headers, body = notification(sides["aurelian"].keys, stray, api_key=sides["aurelian"].api_v3_key)
        refused = await client.post("/webhooks/payments/wechat/aurelian", content=body, headers=headers)
        assert refused.status_code == 400 and "not a payment of this shop" in refused.text
        assert (await client.post("/webhooks/payments/wechat/no-such-shop", content=body, headers=headers)).status_code == 404
    for name, key, status in (("aurelian", "pk_demo_aurelian", PaymentStatus.DEPOSIT_PAID),
                              ("panda", "pk_demo_panda", PaymentStatus.PAID)):
        [order] = await shops.orders.orders_by_number(await shop_id(shops, key), [orders[name][0]])
        assert order is not None and order.payment_status is status


async def test_a_shop_without_any_merchant_gets_a_clear_user_error_and_no_payment(
    shops: Adapters, wx_settings: Settings, fake_wechat: FakeWechat,
):
    # given the panda shop with no WeChat of its own, and no merchant for the deployment either
    panda = await shop_id(shops, "pk_demo_panda")
    assert await shops.wechat.accounts.clear(panda)
    number, token = await order_of(shops, wx_settings, "pk_demo_panda", "DIAPER-L54", "wx:o-p2")
    async with api_client(wx_settings, shops) as client:
        # when its shopper pays
        answer = await make_gql(client)(PAY, {"n": number, "k": "pay-1"}, key="pk_demo_panda", token=token)
    # then a user error says what is missing, WeChat Pay was not asked, and no payment was opened
    [error] = answer["data"]["orderPay"]["userErrors"]
    assert error["code"] == "INVALID_STATE" and "jimu shop wechat set" in error["message"]
    assert fake_wechat.prepays == []
    assert await shops.ledger.payments_of(panda, [number]) == [[]]


async def test_a_secret_no_key_opens_is_service_unavailable_not_a_500(shops: Adapters, wx_settings: Settings,
                                                                      db: Database):
    # given the gateway started with another JIMU_SECRET_KEY than the one the secrets were sealed with
    other = replace(wx_settings, secret_keys=(new_key(),))
    async with api_client(other, sql_adapters(other, db)) as client:
        # when a shopper signs in
        answer = await make_gql(client)(LOGIN, {"code": "c-3"}, key="pk_demo_aurelian")
    # then
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert "JIMU_SECRET_KEY" in answer["errors"][0]["message"]
