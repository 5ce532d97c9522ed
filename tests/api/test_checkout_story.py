"""The Panda Care shopping story over GraphQL: browse, cart, coupon, slot, checkout, cancel."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import Gql, codes

REGION = "1_72_2799_0"
LOGIN = 'mutation($c: String!) { shopperLogin(code: $c) { token } }'
CART = """id region deliveryTier deliverySlot { id remainingCapacity } paymentPlan
  lines { id quantity sku { code } subtotal { amount } }
  coupons { id state template { code } }
  deliveryOptions { tier fee { minorUnits } slots { id remainingCapacity } }
  cost { subtotal { minorUnits } discount { minorUnits } deliveryFee { minorUnits } total { minorUnits }
         depositCredit { minorUnits } dueNow { minorUnits } dueLater { minorUnits } }
  warnings { code message }"""
ORDER = """number status paymentStatus fulfillmentStatus paymentPlan scene channel createdAt
  lines { quantity sku { code } unitPrice { minorUnits } subtotal { minorUnits } }
  cost { subtotal { minorUnits } discount { minorUnits } deliveryFee { minorUnits } total { minorUnits }
         paid { minorUnits } balanceDue { minorUnits } }
  coupons { state template { code } } payments { id }
  delivery { tier region fee { minorUnits } slot { id } features events { kind } }"""
CREATE = "mutation($lines: [CartLineInput!]) { cartCreate(lines: $lines) { cart { " + CART + " } userErrors { code field message } } }"
ADD = "mutation($id: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(cartId: $id, lines: $lines) { cart { " + CART + " } userErrors { code field message } } }"
UPDATE = "mutation($id: ID!, $lines: [CartLineUpdateInput!]!) { cartLinesUpdate(cartId: $id, lines: $lines) { cart { " + CART + " } userErrors { code field message } } }"
REMOVE = "mutation($id: ID!, $ids: [ID!]!) { cartLinesRemove(cartId: $id, lineIds: $ids) { cart { " + CART + " } userErrors { code field message } } }"
DELIVERY = "mutation($id: ID!, $d: CartDeliveryInput!) { cartDeliverySet(cartId: $id, delivery: $d) { cart { " + CART + " } userErrors { code field message } } }"
COUPONS = "mutation($id: ID!, $ids: [ID!]!) { cartCouponsSet(cartId: $id, couponIds: $ids) { cart { " + CART + " } userErrors { code field message } } }"
PLAN = "mutation($id: ID!, $p: PaymentPlan!, $m: BalanceMethod) { cartPaymentPlanSet(cartId: $id, plan: $p, balanceMethod: $m) { cart { " + CART + " } userErrors { code field message } } }"
CHECKOUT = "mutation($id: ID!, $k: String!) { checkoutComplete(cartId: $id, idempotencyKey: $k) { order { " + ORDER + " } userErrors { code field message } } }"
CANCEL = "mutation($n: String!) { orderCancel(orderNumber: $n) { order { " + ORDER + " } userErrors { code field message } } }"


async def token(gql: Gql, name: str) -> str:
    return (await gql(LOGIN, {"c": f"dev:{name}"}))["data"]["shopperLogin"]["token"]


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any], tok: str, **headers: str) -> dict:
    sent = {"X-Jimu-Key": "pk_demo_panda", "Authorization": f"Bearer {tok}", **headers}
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=sent)
    assert response.status_code == 200, response.text
    return response.json()


async def held(gql: Gql) -> tuple[int, int]:
    """Units of DIAPER-L54 left for the region, and places left in the first scheduled slot."""
    sku = (await gql('query($r: String!) { sku(code: "DIAPER-L54") { availability(region: $r) { quantityAvailable }'
                     ' deliveryOptions(region: $r) { tier slots { remainingCapacity } } } }', {"r": REGION}))
    data = sku["data"]["sku"]
    slots = next(o["slots"] for o in data["deliveryOptions"] if o["tier"] == "SCHEDULED")
    return data["availability"]["quantityAvailable"], slots[0]["remainingCapacity"]


async def test_the_whole_panda_shopping_story(gql: Gql, client: httpx.AsyncClient):
    mum = await token(gql, "mum")
    before = await held(gql)
    # she browses, and claims the public 满199减20 coupon
    found = (await gql('{ products(first: 5, filter: {query: "纸尿裤"}) { nodes { handle coupons { id code } } } }'))
    diapers = found["data"]["products"]["nodes"][0]
    welcome = next(c for c in diapers["coupons"] if c["code"] == "WELCOME-20")
    claimed = (await gql('mutation($t: ID!) { couponClaim(templateId: $t) { coupon { id } userErrors { code } } }',
                         {"t": welcome["id"]}, token=mum))["data"]["couponClaim"]
    coupon_id = claimed["coupon"]["id"]

    # a cart of one pack, then one more of the same: one line of two
    created = (await gql(CREATE, {"lines": [{"skuCode": "DIAPER-L54", "quantity": 1}]}, token=mum))["data"]["cartCreate"]
    cart = created["cart"]
    assert created["userErrors"] == [] and cart["paymentPlan"] == "FULL"
    assert [w["code"] for w in cart["warnings"]] == ["DELIVERY_UNAVAILABLE"], "no delivery chosen yet"
    cart = (await gql(ADD, {"id": cart["id"], "lines": [{"skuCode": "DIAPER-L54", "quantity": 1}]},
                      token=mum))["data"]["cartLinesAdd"]["cart"]
    assert [(ln["sku"]["code"], ln["quantity"], ln["subtotal"]["amount"]) for ln in cart["lines"]] == [
        ("DIAPER-L54", 2, "318.00")]

    # a scheduled slot in Beijing, and the coupon
    options = (await gql(DELIVERY, {"id": cart["id"], "d": {"region": REGION, "tier": "STANDARD"}},
                         token=mum))["data"]["cartDeliverySet"]["cart"]["deliveryOptions"]
    slot = next(o for o in options if o["tier"] == "SCHEDULED")["slots"][0]
    cart = (await gql(DELIVERY, {"id": cart["id"], "d": {"region": REGION, "tier": "SCHEDULED", "slotId": slot["id"]}},
                      token=mum))["data"]["cartDeliverySet"]["cart"]
    assert cart["deliveryTier"] == "SCHEDULED" and cart["deliverySlot"]["id"] == slot["id"]
    cart = (await gql(COUPONS, {"id": cart["id"], "ids": [coupon_id]}, token=mum))["data"]["cartCouponsSet"]["cart"]
    cost = {k: v["minorUnits"] for k, v in cart["cost"].items()}
    assert cost == {"subtotal": 31_800, "discount": 2_000, "deliveryFee": 500, "total": 30_300,
                    "depositCredit": 0, "dueNow": 30_300, "dueLater": 0}
    assert cart["warnings"] == []

    # checkout, attributed to the scene and channel it came from
    done = await post(client, CHECKOUT, {"id": cart["id"], "k": "c0ffee-1"}, mum,
                      **{"X-Jimu-Scene": "1089", "X-Jimu-Channel": "moments_ad_7"})
    placed = done["data"]["checkoutComplete"]
    order = placed["order"]
    assert placed["userErrors"] == []
    assert (order["status"], order["paymentStatus"], order["fulfillmentStatus"]) == ("OPEN", "UNPAID", "UNFULFILLED")
    assert (order["scene"], order["channel"]) == (1089, "moments_ad_7")
    assert order["cost"]["total"]["minorUnits"] == 30_300 and order["cost"]["balanceDue"]["minorUnits"] == 30_300
    assert order["coupons"] == [{"state": "LOCKED", "template": {"code": "WELCOME-20"}}]
    assert order["delivery"]["slot"]["id"] == slot["id"] and order["delivery"]["events"] == [{"kind": "CREATED"}]
    assert await held(gql) == (before[0] - 2, before[1] - 1)
    retried = await post(client, CHECKOUT, {"id": cart["id"], "k": "c0ffee-1"}, mum)
    assert retried["data"]["checkoutComplete"]["order"]["number"] == order["number"]

    # it shows in her orders; the cart is closed to edits
    mine = (await gql("{ me { orders(first: 5) { totalCount nodes { number } } } }", token=mum))["data"]["me"]["orders"]
    assert mine == {"totalCount": 1, "nodes": [{"number": order["number"]}]}
    closed = (await gql(ADD, {"id": cart["id"], "lines": [{"skuCode": "WIPES-80X6", "quantity": 1}]},
                        token=mum))["data"]["cartLinesAdd"]
    assert [e["code"] for e in closed["userErrors"]] == ["INVALID_STATE"]

    # she cancels: stock, coupon and slot come back, once
    cancelled = (await gql(CANCEL, {"n": order["number"]}, token=mum))["data"]["orderCancel"]
    assert cancelled["order"]["status"] == "CANCELLED" and cancelled["order"]["coupons"][0]["state"] == "AVAILABLE"
    assert await held(gql) == before
    twice = (await gql(CANCEL, {"n": order["number"]}, token=mum))["data"]["orderCancel"]
    assert [e["code"] for e in twice["userErrors"]] == ["INVALID_STATE"]
    assert await held(gql) == before


async def test_cart_input_is_checked_line_by_line_and_changes_nothing_when_wrong(gql: Gql):
    mum = await token(gql, "mum")
    bad = (await gql(CREATE, {"lines": [
        {"skuCode": "DIAPER-L54", "quantity": 1},
        {"skuCode": "NO-SUCH", "quantity": 1},
        {"skuCode": "WIPES-80X6", "quantity": 0},
        {"skuCode": "SAMPLE-S4", "quantity": 2},
    ]}, token=mum))["data"]["cartCreate"]
    assert bad["cart"] is None
    assert [(e["code"], e["field"]) for e in bad["userErrors"]] == [
        ("NOT_FOUND", ["lines", "1", "skuCode"]),
        ("INVALID", ["lines", "2", "quantity"]),
        ("PURCHASE_LIMIT_EXCEEDED", ["lines", "3", "quantity"]),
    ]
    cart = (await gql(CREATE, {"lines": [{"skuCode": "DIAPER-L54", "quantity": 9}]}, token=mum))["data"]["cartCreate"]["cart"]
    over = (await gql(ADD, {"id": cart["id"], "lines": [{"skuCode": "DIAPER-L54", "quantity": 2}]},
                      token=mum))["data"]["cartLinesAdd"]
    assert [(e["code"], e["field"]) for e in over["userErrors"]] == [("PURCHASE_LIMIT_EXCEEDED", ["lines", "0", "quantity"])]
    assert over["cart"]["lines"][0]["quantity"] == 9, "unchanged"
    line = cart["lines"][0]["id"]
    updated = (await gql(UPDATE, {"id": cart["id"], "lines": [{"lineId": line, "quantity": 3},
                                                              {"lineId": "gid://jimu/CartLine/999999", "quantity": 1}]},
                         token=mum))["data"]["cartLinesUpdate"]
    assert [(e["code"], e["field"]) for e in updated["userErrors"]] == [("NOT_FOUND", ["lines", "1", "lineId"])]
    updated = (await gql(UPDATE, {"id": cart["id"], "lines": [{"lineId": line, "quantity": -1}]},
                         token=mum))["data"]["cartLinesUpdate"]
    assert [(e["code"], e["field"]) for e in updated["userErrors"]] == [("INVALID", ["lines", "0", "quantity"])]
    for region, said in (("beijing", "'beijing' is not a region code (1 to 4 numeric segments joined by _, e.g. 19_1601)"),
                         ("99", "no province '99' in the region table (the regions query lists them)")):
        bad_delivery = (await gql(DELIVERY, {"id": cart["id"], "d": {"region": region, "tier": "PREMIUM"}},
                                  token=mum))["data"]["cartDeliverySet"]
        assert [(e["code"], e["field"], e["message"]) for e in bad_delivery["userErrors"]] == [
            ("INVALID", ["delivery", "region"], said)]
    no_premium = (await gql(DELIVERY, {"id": cart["id"], "d": {"region": REGION, "tier": "EXPRESS"}},
                            token=mum))["data"]["cartDeliverySet"]
    assert no_premium["userErrors"] == []
    far = (await gql(DELIVERY, {"id": cart["id"], "d": {"region": "26", "tier": "EXPRESS"}},
                     token=mum))["data"]["cartDeliverySet"]
    assert [(e["code"], e["field"]) for e in far["userErrors"]] == [("DELIVERY_UNAVAILABLE", ["delivery", "tier"])]
    bad_coupons = (await gql(COUPONS, {"id": cart["id"], "ids": ["nope", "gid://jimu/Coupon/999999"]},
                             token=mum))["data"]["cartCouponsSet"]
    assert [(e["code"], e["field"]) for e in bad_coupons["userErrors"]] == [
        ("INVALID", ["couponIds", "0"]), ("NOT_FOUND", ["couponIds", "1"])]
    deposit = (await gql(PLAN, {"id": cart["id"], "p": "DEPOSIT", "m": "ONLINE"}, token=mum))["data"]["cartPaymentPlanSet"]
    assert [e["code"] for e in deposit["userErrors"]] == ["INVALID"], "diapers are not sold on deposit"
    removed = (await gql(REMOVE, {"id": cart["id"], "ids": [line]}, token=mum))["data"]["cartLinesRemove"]
    assert removed["cart"]["lines"] == [] and "INVALID" in [w["code"] for w in removed["cart"]["warnings"]]
    empty = (await gql(CHECKOUT, {"id": cart["id"], "k": "k1"}, token=mum))["data"]["checkoutComplete"]
    assert empty["order"] is None and "INVALID" in [e["code"] for e in empty["userErrors"]]


async def test_carts_and_orders_are_their_shoppers_alone(gql: Gql, client: httpx.AsyncClient):
    # given mum's cart and order
    mum, stranger = await token(gql, "mum"), await token(gql, "stranger")
    cart = (await gql(CREATE, {"lines": [{"skuCode": "WIPES-80X6", "quantity": 1}]}, token=mum))["data"]["cartCreate"]["cart"]
    await gql(DELIVERY, {"id": cart["id"], "d": {"region": REGION, "tier": "STANDARD"}}, token=mum)
    order = (await gql(CHECKOUT, {"id": cart["id"], "k": "k1"}, token=mum))["data"]["checkoutComplete"]["order"]
    # then another shopper can neither read nor change either, and is told what a missing one tells
    assert re.fullmatch(r"gid://jimu/Cart/[A-Za-z0-9_-]{22}", cart["id"]), "a cart id says nothing of the others"
    missing_cart = "gid://jimu/Cart/" + "A" * 22
    for cart_id in (cart["id"], missing_cart):
        read = await gql("query($id: ID!) { cart(id: $id) { id } }", {"id": cart_id}, token=stranger)
        assert read["data"] == {"cart": None} and "errors" not in read
        added = await gql(ADD, {"id": cart_id, "lines": [{"skuCode": "WIPES-80X6", "quantity": 1}]}, token=stranger)
        assert added["data"]["cartLinesAdd"]["userErrors"][0]["code"] == "NOT_FOUND"
        checkout = (await gql(CHECKOUT, {"id": cart_id, "k": "k2"}, token=stranger))["data"]["checkoutComplete"]
        assert checkout["order"] is None and checkout["userErrors"][0]["code"] == "NOT_FOUND"
    for number in (order["number"], "2612019999999999999999"):
        read = await gql('query($n: String!) { order(number: $n) { number } }', {"n": number}, token=stranger)
        assert read["data"] == {"order": None} and "errors" not in read
        cancelled = (await gql(CANCEL, {"n": number}, token=stranger))["data"]["orderCancel"]
        assert cancelled["userErrors"][0]["code"] == "NOT_FOUND"
    theirs = (await gql("{ me { orders { totalCount } } }", token=stranger))["data"]["me"]["orders"]
    assert theirs == {"totalCount": 0}
    node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": cart["id"]}, token=stranger)
    assert node["data"]["node"] is None
    # nor can anyone without a token, nor another shop
    assert codes(await gql("query($id: ID!) { cart(id: $id) { id } }", {"id": cart["id"]})) == ["UNAUTHENTICATED"]
    elsewhere = await gql('query($n: String!) { order(number: $n) { number } }', {"n": order["number"]},
                          key="pk_demo_aurelian", token=await token(gql, "mum"))
    assert codes(elsewhere) == ["UNAUTHENTICATED"], "a Panda token is not valid in Aurelian"
    aurelian_mum = (await gql(LOGIN, {"c": "dev:mum"}, key="pk_demo_aurelian"))["data"]["shopperLogin"]["token"]
    elsewhere = await gql('query($n: String!) { order(number: $n) { number } }', {"n": order["number"]},
                          key="pk_demo_aurelian", token=aurelian_mum)
    assert elsewhere["data"]["order"] is None
    mine = (await gql('query($n: String!) { order(number: $n) { number } }', {"n": order["number"]}, token=mum))
    assert mine["data"]["order"]["number"] == order["number"]


async def test_attribution_headers_are_checked(gql: Gql, client: httpx.AsyncClient):
    mum = await token(gql, "mum")
    cart = (await gql(CREATE, {"lines": [{"skuCode": "WIPES-80X6", "quantity": 1}]}, token=mum))["data"]["cartCreate"]["cart"]
    await gql(DELIVERY, {"id": cart["id"], "d": {"region": REGION, "tier": "STANDARD"}}, token=mum)
    for headers in ({"X-Jimu-Channel": "x" * 81}, {"X-Jimu-Channel": "moments-ad"}, {"X-Jimu-Scene": "abc"},
                    {"X-Jimu-Scene": "-5"}):
        sent = {"X-Jimu-Key": "pk_demo_panda", "Authorization": f"Bearer {mum}", **headers}
        refused = await client.post("/graphql", json={"query": CHECKOUT, "variables": {"id": cart["id"], "k": "k1"}},
                                    headers=sent)
        assert refused.status_code == 400 and codes(refused.json()) == ["BAD_USER_INPUT"]
    key = (await post(client, CHECKOUT, {"id": cart["id"], "k": "has space"}, mum))["data"]["checkoutComplete"]
    assert [(e["code"], e["field"]) for e in key["userErrors"]] == [("INVALID", ["idempotencyKey"])]
    ok = (await post(client, CHECKOUT, {"id": cart["id"], "k": "k1"}, mum, **{"X-Jimu-Channel": "x" * 80}))
    assert ok["data"]["checkoutComplete"]["order"]["channel"] == "x" * 80


async def test_the_merchant_sees_orders_ships_them_and_counts_sales(gql: Gql, client: httpx.AsyncClient):
    # given two orders from two channels, one of them free (a coupon worth it all)
    created = (await gql("""mutation { couponTemplateCreate(input: {code: "ALL-FREE", title: "全免", kind: AMOUNT_OFF,
        discount: "1000", totalQuantity: 5, validDays: 3, stackingGroup: PLATFORM}) { template { id } } }""",
                         key="sk_demo_panda"))["data"]["couponTemplateCreate"]["template"]
    numbers = []
    for name, channel, free in (("a", "moments", True), ("b", "search", False)):
        tok = await token(gql, name)
        cart = (await gql(CREATE, {"lines": [{"skuCode": "WIPES-80X6", "quantity": 2}]}, token=tok))["data"][
            "cartCreate"]["cart"]
        await gql(DELIVERY, {"id": cart["id"], "d": {"region": REGION, "tier": "STANDARD"}}, token=tok)
        if free:
            coupon = (await gql('mutation($t: ID!) { couponClaim(templateId: $t) { coupon { id } } }',
                                {"t": created["id"]}, token=tok))["data"]["couponClaim"]["coupon"]["id"]
            await gql(COUPONS, {"id": cart["id"], "ids": [coupon]}, token=tok)
        order = (await post(client, CHECKOUT, {"id": cart["id"], "k": "k"}, tok, **{"X-Jimu-Channel": channel}))
        numbers.append(order["data"]["checkoutComplete"]["order"]["number"])
    free_number, paid_later = numbers
    # then the storefront key cannot see merchant views
    assert codes(await gql("{ merchant { orders { totalCount } } }")) == ["FORBIDDEN"]
    view = (await gql("{ merchant { orders(first: 1) { totalCount pageInfo { hasNextPage endCursor } nodes { number } } } }",
                      key="sk_demo_panda"))["data"]["merchant"]["orders"]
    assert view["totalCount"] == 2 and view["nodes"] == [{"number": paid_later}] and view["pageInfo"]["hasNextPage"]
    rest = (await gql('query($a: String) { merchant { orders(first: 5, after: $a) { nodes { number } } } }',
                      {"a": view["pageInfo"]["endCursor"]}, key="sk_demo_panda"))["data"]["merchant"]["orders"]
    assert rest["nodes"] == [{"number": free_number}]
    # and backwards: the oldest first, then what came after it
    oldest = (await gql("{ merchant { orders(last: 1) { nodes { number } pageInfo { hasPreviousPage hasNextPage "
                        "startCursor } } } }", key="sk_demo_panda"))["data"]["merchant"]["orders"]
    assert oldest["nodes"] == [{"number": free_number}] and oldest["pageInfo"]["hasPreviousPage"]
    newer = (await gql('query($b: String) { merchant { orders(last: 5, before: $b) { nodes { number } pageInfo { '
                       'hasPreviousPage hasNextPage } } } }', {"b": oldest["pageInfo"]["startCursor"]},
                       key="sk_demo_panda"))["data"]["merchant"]["orders"]
    assert newer == {"nodes": [{"number": paid_later}], "pageInfo": {"hasPreviousPage": False, "hasNextPage": True}}
    # the unpaid order is placed but took no money; the free one took none either
    sales = (await gql("{ merchant { sales(groupBy: CHANNEL) { key orders gross { minorUnits } placedOrders "
                       "placed { minorUnits } } } }", key="sk_demo_panda"))["data"]["merchant"]["sales"]
    assert sales == [{"key": "search", "orders": 0, "gross": {"minorUnits": 0}, "placedOrders": 1,
                      "placed": {"minorUnits": 9_980}},
                     {"key": "moments", "orders": 0, "gross": {"minorUnits": 0}, "placedOrders": 1,
                      "placed": {"minorUnits": 0}}]
    scenes = (await gql("{ merchant { sales(groupBy: SCENE) { key placedOrders } } }", key="sk_demo_panda"))["data"]
    assert scenes["merchant"]["sales"] == [{"key": "", "placedOrders": 2}]
    # an unpaid order cannot ship; the free one (paid at once) can, and goes all the way
    ship = 'mutation($n: String!) { orderShip(orderNumber: $n) { order { status fulfillmentStatus } userErrors { code } } }'
    event = """mutation($n: String!, $k: DeliveryEventKind!) { deliveryEventRecord(orderNumber: $n, kind: $k) {
        order { status paymentStatus fulfillmentStatus delivery { events { kind } } } userErrors { code field } } }"""
    unpaid = (await gql(ship, {"n": paid_later}, key="sk_demo_panda"))["data"]["orderShip"]
    assert [e["code"] for e in unpaid["userErrors"]] == ["INVALID_STATE"]
    assert codes(await gql(ship, {"n": free_number})) == ["FORBIDDEN"]
    shipped = (await gql(ship, {"n": free_number}, key="sk_demo_panda"))["data"]["orderShip"]
    assert shipped["order"] == {"status": "OPEN", "fulfillmentStatus": "SHIPPED"}
    early = (await gql(event, {"n": free_number, "k": "DELIVERED"}, key="sk_demo_panda"))["data"]["deliveryEventRecord"]
    assert early["userErrors"] == [{"code": "INVALID_STATE", "field": ["kind"]}]
    await gql(event, {"n": free_number, "k": "OUT_FOR_DELIVERY"}, key="sk_demo_panda")
    delivered = (await gql(event, {"n": free_number, "k": "DELIVERED"}, key="sk_demo_panda"))["data"]["deliveryEventRecord"]
    assert delivered["order"]["status"] == "COMPLETED" and delivered["order"]["fulfillmentStatus"] == "DELIVERED"
    assert [e["kind"] for e in delivered["order"]["delivery"]["events"]] == [
        "CREATED", "PICKED", "OUT_FOR_DELIVERY", "DELIVERED"]
    completed = (await gql("{ merchant { orders(status: COMPLETED) { nodes { number paymentStatus } } } }",
                           key="sk_demo_panda"))["data"]["merchant"]["orders"]["nodes"]
    assert completed == [{"number": free_number, "paymentStatus": "PAID"}]
