"""Managing subscriptions over the API, and the INVENTORY_LOW threshold."""

from __future__ import annotations

from dataclasses import replace

import httpx

from gateway.settings import Settings, WebhookSettings
from gateway.wiring import Adapters
from tests.conftest import Gql, api_client, make_gql
from tests.stories import sell_diapers
from tests.webhooks.test_webhook_stories import DELIVERIES, SUBSCRIBE

SK = "sk_demo_panda"
LIST = "{ merchant { webhookSubscriptions { id topic url enabled disabledReason } } }"
DELETE = "mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { subscription { id } userErrors { code field } } }"
LOW = """mutation($t: Int, $c: String) { inventoryLowStockSet(threshold: $t, skuCode: $c) {
  thresholds { sku { code } threshold } userErrors { code field message } } }"""


def errors(answer: dict, name: str) -> list[tuple[str, list[str]]]:
    return [(e["code"], e["field"]) for e in answer["data"][name]["userErrors"]]


async def test_a_merchant_subscribes_lists_and_deletes_and_gets_a_secret_made_when_none_is_given(gql: Gql):
    # when a subscription is made without a secret
    made = (await gql(SUBSCRIBE, {"t": "ORDERS_PAID", "u": "http://127.0.0.1:9/paid", "s": None}, key=SK))[
        "data"]["webhookSubscriptionCreate"]
    # then a new secret is shown once, and the subscription is listed
    assert made["userErrors"] == [] and made["secret"].startswith("whsec_") and len(made["secret"]) > 32
    listed = (await gql(LIST, key=SK))["data"]["merchant"]["webhookSubscriptions"]
    assert listed == [{"id": made["subscription"]["id"], "topic": "ORDERS_PAID", "url": "http://127.0.0.1:9/paid",
                       "enabled": True, "disabledReason": None}]
    # and the same URL and topic again is refused; deleting removes it once
    again = await gql(SUBSCRIBE, {"t": "ORDERS_PAID", "u": "http://127.0.0.1:9/paid", "s": None}, key=SK)
    assert errors(again, "webhookSubscriptionCreate") == [("INVALID", ["url"])]
    assert errors(await gql(DELETE, {"id": made["subscription"]["id"]}, key=SK), "webhookSubscriptionDelete") == []
    assert errors(await gql(DELETE, {"id": made["subscription"]["id"]}, key=SK), "webhookSubscriptionDelete") == [
        ("NOT_FOUND", ["id"])]
    assert errors(await gql(DELETE, {"id": "gid://jimu/Order/1"}, key=SK), "webhookSubscriptionDelete") == [
        ("INVALID", ["id"])]
    assert (await gql(LIST, key=SK))["data"]["merchant"]["webhookSubscriptions"] == []


async def test_bad_urls_and_secrets_are_refused_by_field_and_a_storefront_key_is_forbidden(gql: Gql):
    for url in ("ftp://example.com/x", "http://user:pw@example.com/x", "not a url", "http://example.com/" + "a" * 2048):
        answer = await gql(SUBSCRIBE, {"t": "ORDERS_PAID", "u": url, "s": None}, key=SK)
        assert errors(answer, "webhookSubscriptionCreate") == [("INVALID", ["url"])], url
    short = await gql(SUBSCRIBE, {"t": "ORDERS_PAID", "u": "http://127.0.0.1:9/x", "s": "short"}, key=SK)
    assert errors(short, "webhookSubscriptionCreate") == [("INVALID", ["secret"])]
    storefront = await gql(SUBSCRIBE, {"t": "ORDERS_PAID", "u": "http://127.0.0.1:9/x", "s": None})
    assert storefront["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await gql(LIST, key=SK))["data"]["merchant"]["webhookSubscriptions"] == []


async def test_production_refuses_urls_that_reach_loopback_or_private_networks(settings: Settings, demo: Adapters):
    # given a production deployment (webhooks may not reach inside its network)
    production = replace(settings, env="production", secret="s" * 40, secret_keys=("A" * 43 + "=",),
                         webhooks=WebhookSettings(allow_private=False))
    async with api_client(production, demo) as client:
        gql = make_gql(client)
        for url in ("https://127.0.0.1/x", "https://10.1.2.3/x", "https://169.254.169.254/latest", "https://[::1]/x",
                    "https://localhost/x", "http://example.com/x"):
            answer = await gql(SUBSCRIBE, {"t": "ORDERS_PAID", "u": url, "s": None}, key=SK)
            assert errors(answer, "webhookSubscriptionCreate") == [("INVALID", ["url"])], url


async def test_a_sku_falling_to_its_threshold_is_told_once_per_crossing(gql: Gql, client: httpx.AsyncClient):
    # given INVENTORY_LOW subscribed, DIAPER-L54's threshold at 1,001 (it holds 500 + 500 + 4 in all)
    made = await gql(SUBSCRIBE, {"t": "INVENTORY_LOW", "u": "http://127.0.0.1:9/low", "s": None}, key=SK)
    assert errors(made, "webhookSubscriptionCreate") == []
    set_low = (await gql(LOW, {"t": 1001, "c": "DIAPER-L54"}, key=SK))["data"]["inventoryLowStockSet"]
    assert set_low == {"thresholds": [{"sku": {"code": "DIAPER-L54"}, "threshold": 1001}], "userErrors": []}
    shop_wide = (await gql(LOW, {"t": 3, "c": None}, key=SK))["data"]["inventoryLowStockSet"]["thresholds"]
    assert shop_wide == [{"sku": None, "threshold": 3}, {"sku": {"code": "DIAPER-L54"}, "threshold": 1001}]
    stock = 'mutation($q: Int!) { stockSet(skuCode: "DIAPER-L54", warehouse: "BJ-01", quantity: $q) { userErrors { code } } }'
    # when a sale of 4 crosses it (1,004 -> 1,000), stock set lower stays below, higher goes above,
    # and lower again crosses again
    await sell_diapers(client, 4)
    for quantity in (490, 600, 400):
        assert (await gql(stock, {"q": quantity}, key=SK))["data"]["stockSet"]["userErrors"] == []
    # then one event a crossing, saying what was left and why
    listed = (await gql(DELIVERIES, {"s": None}, key=SK))["data"]["merchant"]["webhookDeliveries"]
    told = [(n["topic"], n["payload"]["sku"]["available"], n["payload"]["sku"]["reason"]) for n in listed["nodes"]]
    assert told == [("INVENTORY_LOW", 904, "STOCK_SET"), ("INVENTORY_LOW", 1000, "RESERVED")]
    assert {n["payload"]["sku"]["threshold"] for n in listed["nodes"]} == {1001}


async def test_thresholds_are_checked(gql: Gql):
    bad = await gql(LOW, {"t": -1, "c": None}, key=SK)
    assert errors(bad, "inventoryLowStockSet") == [("INVALID", ["threshold"])]
    unknown = await gql(LOW, {"t": 3, "c": "NOPE"}, key=SK)
    assert errors(unknown, "inventoryLowStockSet") == [("NOT_FOUND", ["skuCode"])]


async def test_rotating_the_secret_key_seals_webhook_secrets_again_and_they_still_sign(demo: Adapters):
    # given a subscription whose secret was sealed with the old key, and one kept unsealed in development
    from adapters.db import utcnow
    from adapters.webhooks.port import Topic
    from adapters.webhooks.secrets_at_rest import SubscriptionSecrets
    from adapters.wechat_accounts.secret_box import SecretBox, new_key

    old, new = new_key(), new_key()
    [shop] = await demo.shops.shops_by_handle(["panda-care"])
    assert shop is not None
    sealed_old = SubscriptionSecrets(SecretBox([old]), production=False)
    await demo.webhooks.subscribe(shop.id, Topic.ORDERS_PAID, "http://127.0.0.1:9/a", sealed_old.seal("whsec_one"),
                                  utcnow())
    await demo.webhooks.subscribe(shop.id, Topic.ORDERS_PAID, "http://127.0.0.1:9/b",
                                  SubscriptionSecrets(SecretBox([]), production=False).seal("whsec_two"), utcnow())
    # when rotated to the new key (first), the old one still opening
    rotating = SubscriptionSecrets(SecretBox([new, old]), production=False)
    assert await demo.webhooks.reseal(rotating.reseal) == 2
    # then the new key alone opens both, in production too
    only_new = SubscriptionSecrets(SecretBox([new]), production=True)
    from datetime import timedelta

    await demo.webhooks.subscribe(shop.id, Topic.ORDERS_CREATE, "http://127.0.0.1:9/c", only_new.seal("x" * 16), utcnow())
    from tests.contract.test_webhooks_contract import emitted

    await emitted(demo, shop.id, Topic.ORDERS_PAID, {})
    soon = utcnow() + timedelta(seconds=1)
    claimed = await demo.webhooks.claim_due(soon, soon + timedelta(seconds=30), 10)
    assert sorted(only_new.open(c.secret) for c in claimed) == ["whsec_one", "whsec_two"]
