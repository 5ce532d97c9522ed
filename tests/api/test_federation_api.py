"""jimu as a federation subgraph (JIMU_FEDERATION=1): _service and _entities over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.app import create_app
from gateway.graphql import build_schema
from gateway.settings import Settings
from gateway.wiring import Adapters
from tests.conftest import Gql, api_client, codes, make_gql

ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  __typename
  ... on Product { id handle title skus { code } }
  ... on Sku { id code product { handle } }
  ... on Shop { id handle }
} }"""
ARCHIVE = 'mutation($id: ID!) { productArchive(id: $id) { userErrors { code } } }'


@pytest.fixture
async def federated(settings: Settings, demo: Adapters) -> AsyncIterator[Gql]:
    async with api_client(replace(settings, federation=True), demo) as client:
        yield make_gql(client)


async def ids(gql: Gql) -> dict[str, Any]:
    found = await gql('{ shop { id } product(handle: "diaper-soft") { id skus { id code } } }')
    return found["data"]


async def test_the_subgraph_sdl_declares_the_entity_keys(federated: Gql):
    # when
    sdl = (await federated("{ _service { sdl } }"))["data"]["_service"]["sdl"]
    # then
    assert '@link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])' in sdl
    assert 'type Product implements Node @key(fields: "id", resolvable: true) @key(fields: "handle", resolvable: true)' in sdl
    assert 'type Sku implements Node @key(fields: "id", resolvable: true) @key(fields: "code", resolvable: true)' in sdl
    assert 'type Shop implements Node @key(fields: "id", resolvable: true)' in sdl
    assert sdl == build_schema(federation=True).as_str()


async def test_entities_resolve_by_every_key_in_order(federated: Gql):
    # given
    known = await ids(federated)
    [large, extra] = known["product"]["skus"]
    representations = [
        {"__typename": "Sku", "code": extra["code"]},
        {"__typename": "Product", "handle": "diaper-soft"},
        {"__typename": "Shop", "id": known["shop"]["id"]},
        {"__typename": "Product", "id": known["product"]["id"]},
        {"__typename": "Sku", "id": large["id"]},
        {"__typename": "Product", "handle": "no-such-thing"},
    ]
    # when
    body = await federated(ENTITIES, {"r": representations})
    # then
    assert "errors" not in body
    found = body["data"]["_entities"]
    assert [e and e["__typename"] for e in found] == ["Sku", "Product", "Shop", "Product", "Sku", None]
    assert found[0] == {"__typename": "Sku", "id": extra["id"], "code": extra["code"], "product": {"handle": "diaper-soft"}}
    assert found[1] == found[3] and found[1]["handle"] == "diaper-soft" and len(found[1]["skus"]) == 2
    assert found[2]["handle"] == "panda-mall" or found[2]["id"] == known["shop"]["id"]
    assert found[4]["code"] == large["code"]


async def test_an_entity_of_another_shop_is_null(federated: Gql):
    # given Panda's ids, asked for with Aurelian's key
    known = await ids(federated)
    representations = [
        {"__typename": "Product", "id": known["product"]["id"]},
        {"__typename": "Product", "handle": "diaper-soft"},
        {"__typename": "Sku", "id": known["product"]["skus"][0]["id"]},
        {"__typename": "Sku", "code": known["product"]["skus"][0]["code"]},
        {"__typename": "Shop", "id": known["shop"]["id"]},
    ]
    # when
    body = await federated(ENTITIES, {"r": representations}, key="pk_demo_aurelian")
    # then
    assert "errors" not in body
    assert body["data"]["_entities"] == [None] * 5


async def test_an_archived_product_and_its_skus_are_null_as_in_the_root_fields(federated: Gql):
    # given
    known = await ids(federated)
    assert codes(await federated(ARCHIVE, {"id": known["product"]["id"]}, key="sk_demo_panda")) == []
    sku = known["product"]["skus"][0]
    representations = [
        {"__typename": "Product", "id": known["product"]["id"]},
        {"__typename": "Product", "handle": "diaper-soft"},
        {"__typename": "Sku", "id": sku["id"]},
        {"__typename": "Sku", "code": sku["code"]},
    ]
    # when
    body = await federated(ENTITIES, {"r": representations})
    # then
    assert "errors" not in body
    assert body["data"]["_entities"] == [None] * 4


async def test_a_representation_without_its_key_is_an_error_at_its_index_only(federated: Gql):
    # given
    known = await ids(federated)
    representations = [
        {"__typename": "Product"},
        {"__typename": "Order", "id": "gid://jimu/Order/1"},
        {"__typename": "Product", "id": "12"},
        {"__typename": "Product", "id": known["shop"]["id"]},  # another type's id names no product
        {"__typename": "Product", "handle": "diaper-soft"},
    ]
    # when
    body = await federated(ENTITIES, {"r": representations})
    # then
    found = body["data"]["_entities"]
    assert found[:4] == [None] * 4 and found[4]["handle"] == "diaper-soft"
    assert sorted(e["path"][1] for e in body["errors"]) == [0, 1, 2]
    assert codes(body) == ["BAD_USER_INPUT"] * 3


async def test_without_a_key_entities_are_unauthenticated(federated: Gql):
    body = await federated(ENTITIES, {"r": [{"__typename": "Product", "handle": "diaper-soft"}]}, key=None)
    assert codes(body) == ["UNAUTHENTICATED"]


async def test_plain_clients_see_no_federation_fields_unless_it_is_on(settings: Settings, demo: Adapters):
    # given federation off (the default)
    async with api_client(settings, demo) as client:
        body = await make_gql(client)("{ _service { sdl } }")
        sdl = (await client.get("/schema.graphql")).text
    # then
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"] or body.get("data") is None
    assert "_entities" not in sdl and "@key" not in sdl


async def test_schema_graphql_stays_the_plain_sdl_with_federation_on(settings: Settings, demo: Adapters):
    async with api_client(replace(settings, federation=True), demo) as client:
        sdl = (await client.get("/schema.graphql")).text
    assert sdl.strip() == build_schema().as_str().strip()


async def test_a_query_seen_before_runs_on_its_plan_with_federation_on(settings: Settings, demo: Adapters):
    # given a traced app with federation on, and the listing answered once (its plan learnt)
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    app = create_app(replace(settings, federation=True), demo, tracer_provider=provider)
    listing = "query Listing { products(first: 3) { nodes { handle skus { code availability { status } } } } }"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jimu.test") as client:
        first = await client.post("/graphql", json={"query": listing}, headers={"X-Jimu-Key": "pk_demo_panda"})
        spans.clear()
        # when it is asked again
        again = await client.post("/graphql", json={"query": listing}, headers={"X-Jimu-Key": "pk_demo_panda"})
    # then the same answer, from its plan: strawberry did not run it
    assert again.json()["data"] == first.json()["data"] and "errors" not in first.json()
    [operation] = [s for s in spans.get_finished_spans() if s.name == "GraphQL Query: Listing"]
    assert operation.attributes is not None and operation.attributes["jimu.fast_path"] is True
    assert "GraphQL Parsing" not in [s.name for s in spans.get_finished_spans()]


async def test_the_response_cache_holds_entities_and_a_merchant_write_drops_them(settings: Settings, demo: Adapters):
    cached = replace(settings, federation=True, response_cache_seconds=30, reference_cache_seconds=30)
    stock = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Sku { availability { quantityAvailable } } } }'
    representations = {"r": [{"__typename": "Sku", "code": "DIAPER-L54"}]}
    async with api_client(cached, demo) as client:
        gql = make_gql(client)

        async def units() -> int:
            return (await gql(stock, representations))["data"]["_entities"][0]["availability"]["quantityAvailable"]

        # given an answer in the cache, and stock changed behind its back
        before = await units()  # every warehouse's, BJ-01's 500 among them
        [shop] = await demo.shops.shops_by_handle(["panda-care"])
        [sku] = await demo.goods.skus_by_code(shop.id, ["DIAPER-L54"])  # type: ignore[union-attr]
        await demo.inventory.set_available(shop.id, sku.id, "BJ-01", 400)  # type: ignore[union-attr]
        assert await units() == before  # the cache answered
        # when the merchant sets stock through the API
        body = await gql('mutation { stockSet(skuCode: "DIAPER-L54", warehouse: "BJ-01", quantity: 321) '
                         '{ userErrors { code } } }', key="sk_demo_panda")
        # then the next read is fresh
        assert body["data"]["stockSet"]["userErrors"] == []
        assert await units() == before - 500 + 321
