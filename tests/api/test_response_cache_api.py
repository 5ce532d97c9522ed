"""The response cache in front of the real schema: what it keeps, and what drops it."""

from __future__ import annotations

from dataclasses import replace

import httpx

from gateway.settings import Settings
from gateway.wiring import Adapters
from tests.conftest import api_client, make_gql

STOCK = '{ sku(code: "DIAPER-L54") { availability(region: "1_72_2799_0") { quantityAvailable } } }'
STOCK_SET = 'mutation { stockSet(skuCode: "DIAPER-L54", warehouse: "BJ-01", quantity: %d) { userErrors { code } } }'


def cached(settings: Settings) -> Settings:
    return replace(settings, response_cache_seconds=30, reference_cache_seconds=30)


async def units(client: httpx.AsyncClient) -> int:
    body = await make_gql(client)(STOCK)
    return body["data"]["sku"]["availability"]["quantityAvailable"]


async def test_a_merchant_write_drops_what_the_cache_held_before_it_answers(settings: Settings, demo: Adapters):
    async with api_client(cached(settings), demo) as client:
        # given an answer in the cache, and stock changed behind its back
        assert await units(client) == 500
        [shop] = await demo.shops.shops_by_handle(["panda-care"])
        assert shop is not None
        [sku] = await demo.goods.skus_by_code(shop.id, ["DIAPER-L54"])
        assert sku is not None
        await demo.inventory.set_available(shop.id, sku.id, "BJ-01", 400)
        assert await units(client) == 500  # the cache answered
        # when the merchant sets stock through the API
        body = await make_gql(client)(STOCK_SET % 321, key="sk_demo_panda")
        # then the next read is fresh
        assert body["data"]["stockSet"]["userErrors"] == []
        assert await units(client) == 321


async def test_a_shopper_is_never_answered_from_the_cache(settings: Settings, demo: Adapters):
    async with api_client(cached(settings), demo) as client:
        gql = make_gql(client)
        token = (await gql('mutation { shopperLogin(code: "dev:mum") { token } }'))["data"]["shopperLogin"]["token"]
        assert await units(client) == 500
        [shop] = await demo.shops.shops_by_handle(["panda-care"])
        [sku] = await demo.goods.skus_by_code(shop.id, ["DIAPER-L54"])  # type: ignore[union-attr]
        await demo.inventory.set_available(shop.id, sku.id, "BJ-01", 400)  # type: ignore[union-attr]
        # when the same query comes with a token
        response = await client.post("/graphql", json={"query": STOCK},
                                     headers={"X-Jimu-Key": "pk_demo_panda", "Authorization": f"Bearer {token}"})
        # then it is answered fresh, and marked for no cache to keep
        assert response.json()["data"]["sku"]["availability"]["quantityAvailable"] == 400
        assert response.headers["cache-control"] == "private, no-store"


async def test_get_answers_carry_an_etag_that_gives_304(settings: Settings, demo: Adapters):
    async with api_client(cached(settings), demo) as client:
        headers = {"X-Jimu-Key": "pk_demo_panda"}
        first = await client.get("/graphql", params={"query": STOCK}, headers=headers)
        again = await client.get("/graphql", params={"query": STOCK},
                                 headers={**headers, "If-None-Match": first.headers["etag"]})
    assert first.status_code == 200 and first.json()["data"]["sku"]["availability"]["quantityAvailable"] == 500
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert again.status_code == 304 and again.content == b""


async def test_with_the_cache_off_every_read_is_fresh(settings: Settings, demo: Adapters):
    # given the suite's settings: JIMU_RESPONSE_CACHE_SECONDS=0
    async with api_client(replace(settings, response_cache_seconds=0), demo) as client:
        assert await units(client) == 500
        [shop] = await demo.shops.shops_by_handle(["panda-care"])
        [sku] = await demo.goods.skus_by_code(shop.id, ["DIAPER-L54"])  # type: ignore[union-attr]
        await demo.inventory.set_available(shop.id, sku.id, "BJ-01", 400)  # type: ignore[union-attr]
        response = await client.get("/graphql", params={"query": STOCK}, headers={"X-Jimu-Key": "pk_demo_panda"})
        # then
        assert await units(client) == 400
        assert "etag" not in response.headers
