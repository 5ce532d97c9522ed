"""The luxury-watch story over GraphQL and the sandbox webhook: deposit online, balance at the door."""

from __future__ import annotations

import json
from typing import Any

import httpx

from adapters.payments.sandbox import sign
from tests.conftest import Gql, codes

REGION = "1_72_2799_0"
KEY = "pk_demo_aurelian"
SK = "sk_demo_aurelian"
COST = "cost { subtotal { minorUnits } depositCredit { minorUnits } deliveryFee { minorUnits } total { minorUnits } dueNow { minorUnits } dueLater { minorUnits } }"
CART = "id paymentPlan balanceMethod warnings { code message } deliveryOptions { tier slots { id } } " + COST
ORDER = """number status paymentStatus fulfillmentStatus paymentPlan balanceMethod balanceDueAt
  cost { total { minorUnits } depositCredit { minorUnits } paid { minorUnits } refunded { minorUnits } balanceDue { minorUnits } }
  payments { id kind method amount { amount minorUnits } state }
  delivery { tier features events { kind } }"""
PAY = """mutation($n: String!, $k: String!) { orderPay(orderNumber: $n, idempotencyKey: $k) {
  session { payment { id kind method amount { minorUnits } state } clientParams } userErrors { code field message } } }"""
MINE = "query($n: String!) { order(number: $n) { " + ORDER + " } }"
EVENT = """mutation($n: String!, $k: DeliveryEventKind!) { deliveryEventRecord(orderNumber: $n, kind: $k) {
  order { status fulfillmentStatus } userErrors { code field message } } }"""
COLLECT = """mutation($n: String!, $a: Decimal!) { orderBalanceCollect(orderNumber: $n, amount: $a, reference: "POS-7781") {
  order { """ + ORDER + " } userErrors { code field message } } }"
CANCEL = "mutation($n: String!) { orderCancel(orderNumber: $n) { order { " + ORDER + " } userErrors { code } } }"
MERCHANT_CANCEL = """mutation($n: String!) { merchantOrderCancel(orderNumber: $n, reason: "the piece failed inspection") {
  order { """ + ORDER + " } userErrors { code } } }"


async def notify(client: httpx.AsyncClient, payload: dict[str, Any], secret: str = "sandbox-secret") -> httpx.Response:
    body = json.dumps(payload).encode()
    return await client.post("/webhooks/payments/sandbox", content=body,
                             headers={"X-Jimu-Signature": sign(secret, body), "content-type": "application/json"})


async def deposit_order(gql: Gql, shopper: str, sku: str = "WATCH-RG41-STEEL", channel: str = "") -> tuple[str, str]:
    """A checked-out DEPOSIT order for one watch with white-glove delivery; (token, order number)."""
    token = (await gql('mutation($c: String!) { shopperLogin(code: $c) { token } }', {"c": f"dev:{shopper}"},
                       key=KEY))["data"]["shopperLogin"]["token"]
    cart = (await gql('mutation($s: String!) { cartCreate(lines: [{skuCode: $s, quantity: 1}]) { cart { id } } }',
                      {"s": sku}, key=KEY, token=token))["data"]["cartCreate"]["cart"]
    options = (await gql("mutation($id: ID!) { cartDeliverySet(cartId: $id, delivery: {region: \"1_72_2799_0\", tier: PREMIUM}) "
                         "{ cart { deliveryOptions { tier slots { id } } } } }",
                         {"id": cart["id"]}, key=KEY, token=token))
    slots = options["data"]["cartDeliverySet"]["cart"]["deliveryOptions"][0]["slots"]
    set_slot = ("mutation($id: ID!, $s: ID!) { cartDeliverySet(cartId: $id, delivery: {region: \"1_72_2799_0\", tier: PREMIUM, "
                "slotId: $s}) { userErrors { code } } }")
    assert (await gql(set_slot, {"id": cart["id"], "s": slots[0]["id"]}, key=KEY, token=token))["data"][
        "cartDeliverySet"]["userErrors"] == []
    await gql('mutation($id: ID!) { cartPaymentPlanSet(cartId: $id, plan: DEPOSIT, balanceMethod: POS_ON_DELIVERY) '
              "{ userErrors { code } } }", {"id": cart["id"]}, key=KEY, token=token)
    placed = (await gql('mutation($id: ID!) { checkoutComplete(cartId: $id, idempotencyKey: "k") { order { number } '
                        "userErrors { code message } } }", {"id": cart["id"]}, key=KEY, token=token,
                       headers={"X-Jimu-Channel": channel}))
    return token, placed["data"]["checkoutComplete"]["order"]["number"]


async def pay_deposit(gql: Gql, client: httpx.AsyncClient, token: str, number: str) -> dict:
    session = (await gql(PAY, {"n": number, "k": f"pay-{number}"}, key=KEY, token=token))["data"]["orderPay"]["session"]
    payment = session["payment"]
    answer = await notify(client, {"paymentId": payment["id"], "status": "SUCCEEDED",
                                   "amountMinor": payment["amount"]["minorUnits"]})
    assert answer.status_code == 200, answer.text
    return payment


async def availability(gql: Gql, sku: str = "WATCH-RG41-STEEL") -> int:
    found = await gql('query($s: String!) { sku(code: $s) { availability(region: "1") { quantityAvailable } } }',
                      {"s": sku}, key=KEY)
    return found["data"]["sku"]["availability"]["quantityAvailable"]


async def test_the_whole_luxury_watch_story(gql: Gql, client: httpx.AsyncClient):
    token = (await gql('mutation { shopperLogin(code: "dev:collector") { token } }', key=KEY))["data"]["shopperLogin"]["token"]
    stock = await availability(gql)
    # a cart with the steel watch and white-glove delivery to a booked slot
    cart = (await gql('mutation { cartCreate(lines: [{skuCode: "WATCH-RG41-STEEL", quantity: 1}]) { cart { id } } }',
                      key=KEY, token=token))["data"]["cartCreate"]["cart"]
    gone = (await gql("mutation($id: ID!) { cartDeliverySet(cartId: $id, delivery: {region: \"1_72_2799_0\", tier: PREMIUM, "
                      "slotId: \"gid://jimu/DeliverySlot/999999\"}) { userErrors { code field } } }", {"id": cart["id"]}, key=KEY, token=token))["data"]["cartDeliverySet"]
    assert gone["userErrors"] == [{"code": "DELIVERY_UNAVAILABLE", "field": ["delivery", "slotId"]}]
    first = (await gql("mutation($id: ID!) { cartDeliverySet(cartId: $id, delivery: {region: \"1_72_2799_0\", tier: PREMIUM}) "
                       "{ cart { " + CART + " } userErrors { code field } } }",
                       {"id": cart["id"]}, key=KEY, token=token))["data"]["cartDeliverySet"]
    assert first["userErrors"] == [] and "DELIVERY_UNAVAILABLE" in [w["code"] for w in first["cart"]["warnings"]]
    slot = first["cart"]["deliveryOptions"][0]["slots"][0]["id"]
    set_delivery = ("mutation($id: ID!, $s: ID!) { cartDeliverySet(cartId: $id, delivery: {region: \"1_72_2799_0\", tier: PREMIUM, "
                    "slotId: $s}) { cart { " + CART + " } userErrors { code } } }")
    full = (await gql(set_delivery, {"id": cart["id"], "s": slot}, key=KEY, token=token))["data"]["cartDeliverySet"]["cart"]

    # FULL is refused over the wallet cap, as a warning and at checkout
    assert full["paymentPlan"] == "FULL" and [w["code"] for w in full["warnings"]] == ["PAYMENT_PLAN_REQUIRED"]
    refused = (await gql('mutation($id: ID!) { checkoutComplete(cartId: $id, idempotencyKey: "k1") { order { number } '
                         "userErrors { code } } }", {"id": cart["id"]}, key=KEY, token=token))["data"]["checkoutComplete"]
    assert refused == {"order": None, "userErrors": [{"code": "PAYMENT_PLAN_REQUIRED"}]}

    # the watch takes its balance at the door only; the DEPOSIT plan says what is due when
    plan = ("mutation($id: ID!, $m: BalanceMethod) { cartPaymentPlanSet(cartId: $id, plan: DEPOSIT, balanceMethod: $m) "
            "{ cart { " + CART + " } userErrors { code field } } }")
    online = (await gql(plan, {"id": cart["id"], "m": "ONLINE"}, key=KEY, token=token))["data"]["cartPaymentPlanSet"]
    assert online["userErrors"] == [{"code": "INVALID", "field": ["balanceMethod"]}]
    deposit = (await gql(plan, {"id": cart["id"], "m": "POS_ON_DELIVERY"}, key=KEY, token=token))["data"][
        "cartPaymentPlanSet"]["cart"]
    assert deposit["warnings"] == []
    assert {k: v["minorUnits"] for k, v in deposit["cost"].items()} == {
        "subtotal": 13_000_000, "depositCredit": 200_000, "deliveryFee": 0, "total": 12_800_000,
        "dueNow": 1_000_000, "dueLater": 11_800_000}
    order = (await gql('mutation($id: ID!) { checkoutComplete(cartId: $id, idempotencyKey: "k2") { order { ' + ORDER + ' } } }',
                       {"id": cart["id"]}, key=KEY, token=token))["data"]["checkoutComplete"]["order"]
    number = order["number"]
    assert (order["paymentStatus"], order["paymentPlan"], order["balanceMethod"]) == ("UNPAID", "DEPOSIT", "POS_ON_DELIVERY")
    assert order["delivery"]["features"] == ["WHITE_GLOVE", "ID_CHECK", "APPOINTMENT"]

    # the deposit, paid online through the sandbox
    session = (await gql(PAY, {"n": number, "k": "wallet-1"}, key=KEY, token=token))["data"]["orderPay"]["session"]
    payment = session["payment"]
    assert (payment["kind"], payment["method"], payment["amount"]["minorUnits"], payment["state"]) == (
        "DEPOSIT", "SANDBOX", 1_000_000, "PENDING")
    assert session["clientParams"]["paymentId"] == payment["id"]
    node = "query($id: ID!) { node(id: $id) { ... on Payment { kind state } } }"
    assert (await gql(node, {"id": payment["id"]}, key=KEY, token=token))["data"]["node"] == {
        "kind": "DEPOSIT", "state": "PENDING"}
    stranger = (await gql('mutation { shopperLogin(code: "dev:stranger") { token } }', key=KEY))["data"]["shopperLogin"]
    assert (await gql(node, {"id": payment["id"]}, key=KEY, token=stranger["token"]))["data"]["node"] is None
    again = (await gql(PAY, {"n": number, "k": "wallet-1"}, key=KEY, token=token))["data"]["orderPay"]["session"]
    assert again["payment"]["id"] == payment["id"], "the same key, the same payment"
    good = {"paymentId": payment["id"], "status": "SUCCEEDED", "amountMinor": 1_000_000}
    assert (await notify(client, good, secret="forged")).status_code == 401
    assert (await notify(client, {**good, "amountMinor": 999_999})).status_code == 400
    assert (await gql(MINE, {"n": number}, key=KEY, token=token))["data"]["order"]["paymentStatus"] == "UNPAID"
    assert (await notify(client, good)).status_code == 200
    assert (await notify(client, good)).json()["changed"] is False, "a replay is counted once"
    paid = (await gql(MINE, {"n": number}, key=KEY, token=token))["data"]["order"]
    assert paid["paymentStatus"] == "DEPOSIT_PAID"
    assert (paid["cost"]["paid"]["minorUnits"], paid["cost"]["balanceDue"]["minorUnits"]) == (1_000_000, 11_800_000)
    assert await availability(gql) == stock - 1
    nothing_online = (await gql(PAY, {"n": number, "k": "wallet-2"}, key=KEY, token=token))["data"]["orderPay"]
    assert [e["code"] for e in nothing_online["userErrors"]] == ["INVALID_STATE"]

    # white-glove delivery: out, identity checked, the balance collected, then handed over
    ship = 'mutation($n: String!) { orderShip(orderNumber: $n) { order { fulfillmentStatus } userErrors { code } } }'
    assert (await gql(ship, {"n": number}, key=SK))["data"]["orderShip"]["order"]["fulfillmentStatus"] == "SHIPPED"
    await gql(EVENT, {"n": number, "k": "OUT_FOR_DELIVERY"}, key=SK)
    await gql(EVENT, {"n": number, "k": "ID_VERIFIED"}, key=SK)
    early = (await gql(EVENT, {"n": number, "k": "DELIVERED"}, key=SK))["data"]["deliveryEventRecord"]
    assert [e["code"] for e in early["userErrors"]] == ["INVALID_STATE"], "not before the balance is collected"
    for amount, said in (("118000.005", 'give yuan with at most 2 decimal places, e.g. "118000.00"'),
                         ("-118000", "the amount must not be negative")):
        refused = (await gql(COLLECT, {"n": number, "a": amount}, key=SK))["data"]["orderBalanceCollect"]
        assert [(e["code"], e["field"], e["message"]) for e in refused["userErrors"]] == [("INVALID", ["amount"], said)]
    short = (await gql(COLLECT, {"n": number, "a": "110000"}, key=SK))["data"]["orderBalanceCollect"]
    assert [(e["code"], e["field"]) for e in short["userErrors"]] == [("PAYMENT_AMOUNT_MISMATCH", ["amount"])]
    collected = (await gql(COLLECT, {"n": number, "a": "118000.00"}, key=SK))["data"]["orderBalanceCollect"]["order"]
    assert collected["paymentStatus"] == "PAID" and collected["cost"]["balanceDue"]["minorUnits"] == 0
    assert [(p["kind"], p["method"], p["amount"]["amount"], p["state"]) for p in collected["payments"]] == [
        ("DEPOSIT", "SANDBOX", "10000.00", "SUCCEEDED"), ("BALANCE", "POS_ON_DELIVERY", "118000.00", "SUCCEEDED")]
    delivered = (await gql(EVENT, {"n": number, "k": "DELIVERED"}, key=SK))["data"]["deliveryEventRecord"]["order"]
    assert delivered == {"status": "COMPLETED", "fulfillmentStatus": "DELIVERED"}


async def test_a_shopper_who_cancels_after_the_deposit_forfeits_it(gql: Gql, client: httpx.AsyncClient):
    stock = await availability(gql)
    token, number = await deposit_order(gql, "changed-mind")
    await pay_deposit(gql, client, token, number)
    cancelled = (await gql(CANCEL, {"n": number}, key=KEY, token=token))["data"]["orderCancel"]["order"]
    assert (cancelled["status"], cancelled["paymentStatus"]) == ("CANCELLED", "DEPOSIT_FORFEITED")
    assert (cancelled["cost"]["paid"]["minorUnits"], cancelled["cost"]["refunded"]["minorUnits"]) == (1_000_000, 0)
    assert await availability(gql) == stock, "the watch is for sale again"


async def test_a_merchant_who_cancels_after_the_deposit_refunds_it_twice(gql: Gql, client: httpx.AsyncClient):
    stock = await availability(gql)
    token, number = await deposit_order(gql, "unlucky")
    await pay_deposit(gql, client, token, number)
    assert codes(await gql(MERCHANT_CANCEL, {"n": number}, key=KEY)) == ["FORBIDDEN"]
    order = (await gql(MERCHANT_CANCEL, {"n": number}, key=SK))["data"]["merchantOrderCancel"]["order"]
    assert (order["status"], order["paymentStatus"]) == ("CANCELLED", "REFUNDED")
    assert [(p["kind"], p["amount"]["minorUnits"]) for p in order["payments"]] == [
        ("DEPOSIT", 1_000_000), ("REFUND", 1_000_000), ("REFUND", 1_000_000)]
    assert order["cost"]["refunded"]["minorUnits"] == 2_000_000
    assert await availability(gql) == stock
    twice = (await gql(MERCHANT_CANCEL, {"n": number}, key=SK))["data"]["merchantOrderCancel"]
    assert [e["code"] for e in twice["userErrors"]] == ["INVALID_STATE"]


async def test_sales_count_the_money_taken_and_given_back_not_what_is_unpaid(gql: Gql, client: httpx.AsyncClient):
    # given three deposit orders from three channels: one unpaid, one forfeited, one the merchant refunded
    placed: dict[str, str] = {}
    for channel in ("unpaid", "forfeited", "refunded"):
        token, placed[channel] = await deposit_order(gql, f"sales-{channel}", channel=channel)
        if channel != "unpaid":
            await pay_deposit(gql, client, token, placed[channel])
        if channel == "forfeited":
            await gql(CANCEL, {"n": placed[channel]}, key=KEY, token=token)
    await gql(MERCHANT_CANCEL, {"n": placed["refunded"]}, key=SK)
    total = (await gql("query($n: String!) { merchant { order(number: $n) { cost { total { minorUnits } } } } }",
                       {"n": placed["unpaid"]}, key=SK))["data"]["merchant"]["order"]["cost"]["total"]["minorUnits"]
    # when the merchant asks for sales by channel
    rows = (await gql("""{ merchant { sales(groupBy: CHANNEL) { key orders gross { amount } placedOrders
        placed { minorUnits } paidOrders paid { minorUnits } refundedOrders refunded { minorUnits }
        net { amount minorUnits } } } }""", key=SK))["data"]["merchant"]["sales"]
    # then the unpaid order is placed but counts no money; refunds and the forfeit show in net
    deposit = 1_000_000
    assert rows == [
        {"key": "forfeited", "orders": 1, "gross": {"amount": "10000.00"}, "placedOrders": 1,
         "placed": {"minorUnits": total}, "paidOrders": 1, "paid": {"minorUnits": deposit}, "refundedOrders": 0,
         "refunded": {"minorUnits": 0}, "net": {"amount": "10000.00", "minorUnits": deposit}},
        {"key": "refunded", "orders": 1, "gross": {"amount": "10000.00"}, "placedOrders": 1,
         "placed": {"minorUnits": total}, "paidOrders": 1, "paid": {"minorUnits": deposit}, "refundedOrders": 1,
         "refunded": {"minorUnits": 2 * deposit}, "net": {"amount": "-10000.00", "minorUnits": -deposit}},
        {"key": "unpaid", "orders": 0, "gross": {"amount": "0.00"}, "placedOrders": 1,
         "placed": {"minorUnits": total}, "paidOrders": 0, "paid": {"minorUnits": 0}, "refundedOrders": 0,
         "refunded": {"minorUnits": 0}, "net": {"amount": "0.00", "minorUnits": 0}},
    ]


async def test_payment_webhooks_refuse_what_is_not_a_notification(client: httpx.AsyncClient):
    for body in (b"not json", b"[]", json.dumps({"paymentId": "x", "status": "SUCCEEDED", "amountMinor": 1}).encode(),
                 json.dumps({"paymentId": "gid://jimu/Payment/1", "status": "MAYBE", "amountMinor": 1}).encode(),
                 json.dumps({"paymentId": "gid://jimu/Payment/1", "status": "FAILED", "amountMinor": 1.5}).encode()):
        answer = await client.post("/webhooks/payments/sandbox", content=body,
                                   headers={"X-Jimu-Signature": sign("sandbox-secret", body)})
        assert answer.status_code == 400, body
    unknown = await notify(client, {"paymentId": "gid://jimu/Payment/999999", "status": "SUCCEEDED", "amountMinor": 1})
    assert unknown.status_code == 404
    unsigned = await client.post("/webhooks/payments/sandbox", content=b"{}")
    assert unsigned.status_code == 401


async def test_pay_is_for_the_orders_own_shopper_and_keys_are_per_order(gql: Gql):
    token, number = await deposit_order(gql, "first")
    other, other_number = await deposit_order(gql, "second", sku="WATCH-RG41-GOLD")
    theirs = (await gql(PAY, {"n": number, "k": "x"}, key=KEY, token=other))["data"]["orderPay"]
    assert theirs["session"] is None and theirs["userErrors"][0]["code"] == "NOT_FOUND"  # as for no such order
    await gql(PAY, {"n": number, "k": "shared-key"}, key=KEY, token=token)
    conflict = (await gql(PAY, {"n": other_number, "k": "shared-key"}, key=KEY, token=other))["data"]["orderPay"]
    assert [(e["code"], e["field"]) for e in conflict["userErrors"]] == [("IDEMPOTENCY_CONFLICT", ["idempotencyKey"])]
    gold = (await gql(PAY, {"n": other_number, "k": "gold-1"}, key=KEY, token=other))["data"]["orderPay"]["session"]
    assert gold["payment"]["amount"]["minorUnits"] == 2_000_000
