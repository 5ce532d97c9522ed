"""Query cost, Shopify-style: priced before it runs, refused above JIMU_MAX_QUERY_COST with
MAX_COST_EXCEEDED, and every answer says in extensions.cost what was asked and what it cost."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from gateway.settings import Settings
from gateway.wiring import Adapters
from tests.conftest import api_client, codes, make_gql

# The storefront's category listing (bench/common.py's LISTING): what the README prices.
LISTING = """query Listing($region:String!){ products(first:20){ nodes{ handle title brand
      priceRange{ min{ amount minorUnits } max{ amount minorUnits } } images{ url } coupons{ code title }
      skus{ code title price{ amount minorUnits } compareAtPrice{ amount }
            availability(region:$region){ status quantityAvailable }
            deliveryOptions(region:$region){ tier fee{ minorUnits } } } } } }"""
LISTING_COST = 2781
KEY = {"X-Jimu-Key": "pk_demo_panda"}
ABUSE_ONE = ('products(first: 100) { nodes { skus { code availability(region: "1") { status } '
             'deliveryOptions(region: "1", quantity: 1) { tier fee { amount } slots { id } } } } }')


async def post(client: httpx.AsyncClient, query: str, variables: dict | None = None) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=KEY)


async def test_the_listing_is_priced_and_passes_with_room_to_spare(client: httpx.AsyncClient):
    first = await post(client, LISTING, {"region": "1_72_2799_0"})
    body = first.json()
    assert "errors" not in body and len(body["data"]["products"]["nodes"]) > 0
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == LISTING_COST <= Settings().max_query_cost / 3
    assert 0 < cost["actualQueryCost"] <= cost["requestedQueryCost"]
    # the second answer comes from the compiled plan: the same bytes, cost and all
    again = await post(client, LISTING, {"region": "1_72_2799_0"})
    assert again.content == first.content


async def test_the_actual_cost_counts_the_objects_in_the_answer(client: httpx.AsyncClient):
    body = (await post(client, '{ products(first: 2) { nodes { title priceRange { min { amount } } } } }')).json()
    nodes = body["data"]["products"]["nodes"]
    # products 1; per product: itself, priceRange, min
    assert body["extensions"]["cost"] == {"requestedQueryCost": 1 + 2 * 3, "actualQueryCost": 1 + len(nodes) * 3}
    none = (await post(client, '{ product(handle: "no-such") { title skus { code } } }')).json()
    assert none["extensions"]["cost"] == {"requestedQueryCost": 1 + 10, "actualQueryCost": 0}


@pytest.mark.parametrize(
    "document",
    [
        "{ " + ABUSE_ONE + " }",
        "{ " + " ".join(f"a{i}: {ABUSE_ONE}" for i in range(3)) + " }",
        "{ " + " ".join(f'a{i}: products(first: 100) {{ nodes {{ skus {{ deliveryOptions(region: "1", quantity: 1) '
                        f'{{ slots {{ id }} }} }} }} }}' for i in range(5)) + " }",
    ],
)
async def test_the_abusive_shapes_are_refused_before_they_run(client: httpx.AsyncClient, document: str):
    for response in (await post(client, document), await client.get("/graphql", params={"query": document},
                                                                    headers=KEY)):
        body = response.json()
        assert response.status_code == 200 and body["data"] is None, body
        assert codes(body) == ["MAX_COST_EXCEEDED"]
        [error] = body["errors"]
        assert error["extensions"]["maxCost"] == 10_000 and error["extensions"]["cost"] > 10_000
        assert body["extensions"]["cost"] == {"requestedQueryCost": error["extensions"]["cost"], "actualQueryCost": 0}


async def test_the_cap_is_a_setting_and_a_known_plan_is_priced_again_with_new_variables(
    settings: Settings, demo: Adapters
):
    query = "query($n: Int) { products(first: $n) { nodes { title skus { code } } } }"  # 1 + n * 11
    async with api_client(replace(settings, max_query_cost=1 + 5 * 11), demo) as client:
        gql = make_gql(client)
        for _ in range(2):  # the second run is the compiled plan's
            assert "errors" not in await gql(query, {"n": 5})
        refused = await gql(query, {"n": 6})
        assert codes(refused) == ["MAX_COST_EXCEEDED"] and refused["errors"][0]["extensions"]["cost"] == 1 + 6 * 11


async def test_mutations_cost_ten_and_introspection_nothing(client: httpx.AsyncClient):
    login = (await post(client, 'mutation { shopperLogin(code: "dev:cost") { token userErrors { code } } }')).json()
    assert login["extensions"]["cost"]["requestedQueryCost"] == 10 + 10  # the root field, its ten userErrors
    schema = (await post(client, "{ __schema { types { name fields { name type { name ofType { name } } } } } }"))
    assert schema.json()["extensions"]["cost"] == {"requestedQueryCost": 0, "actualQueryCost": 0}
    broken = (await post(client, "{ products(first: 2) { nosuch } }")).json()
    assert codes(broken) == ["GRAPHQL_VALIDATION_FAILED"]
