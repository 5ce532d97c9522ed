"""Stories several test modules tell: a whole sale, start to paid."""

from __future__ import annotations

import json

import httpx

from adapters.payments.sandbox import sign
from tests.conftest import make_gql

REGION = "1_72_2799_0"  # Beijing: served by BJ-01


async def sell_diapers(client: httpx.AsyncClient, quantity: int, sku_code: str = "DIAPER-L54",
                       shopper: str = "mum") -> None:
    """A shopper buys DIAPER-L54 (or ``sku_code``) in Beijing and pays through the sandbox: the units are sold."""
    gql = make_gql(client)
    token = (await gql('mutation($c: String!) { shopperLogin(code: $c) { token } }',
                       {"c": f"dev:{shopper}"}))["data"]["shopperLogin"]["token"]
    cart = (await gql('mutation($q: Int!, $c: String!) { cartCreate(lines: [{skuCode: $c, quantity: $q}]) '
                      "{ cart { id } } }", {"q": quantity, "c": sku_code}, token=token))["data"]["cartCreate"]["cart"]
    chosen = await gql('mutation($id: ID!, $r: String!) { cartDeliverySet(cartId: $id, delivery: {region: $r, '
                       "tier: STANDARD}) { userErrors { code } } }", {"id": cart["id"], "r": REGION}, token=token)
    assert chosen["data"]["cartDeliverySet"]["userErrors"] == []
    placed = (await gql('mutation($id: ID!, $k: String!) { checkoutComplete(cartId: $id, idempotencyKey: $k) '
                        "{ order { number } userErrors { code } } }", {"id": cart["id"], "k": f"sale-{shopper}"},
                        token=token))
    number = placed["data"]["checkoutComplete"]["order"]["number"]
    session = (await gql('mutation($n: String!, $k: String!) { orderPay(orderNumber: $n, idempotencyKey: $k) '
                         "{ session { payment { id amount { minorUnits } } } userErrors { code } } }",
                         {"n": number, "k": f"pay-{shopper}"}, token=token))["data"]["orderPay"]["session"]
    body = json.dumps({"paymentId": session["payment"]["id"], "status": "SUCCEEDED",
                       "amountMinor": session["payment"]["amount"]["minorUnits"]}).encode()
    paid = await client.post("/webhooks/payments/sandbox", content=body,
                             headers={"X-Jimu-Signature": sign("sandbox-secret", body), "content-type": "application/json"})
    assert paid.status_code == 200, paid.text
    order = await gql('query($n: String!) { order(number: $n) { paymentStatus } }', {"n": number}, token=token)
    assert order["data"]["order"]["paymentStatus"] == "PAID"
