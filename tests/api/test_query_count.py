"""A page of products costs a constant number of SQL statements, whatever its size."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event

from adapters.catalog.format import parse_catalog
from adapters.db import Database, utcnow
from gateway.settings import Settings
from gateway.wiring import Adapters, sql_adapters
from tests.conftest import api_client, make_gql
from tests.factories import catalog, product, sku

PAGE = """query($first: Int!) {
  products(first: $first) {
    nodes {
      handle title priceRange { min { amount } }
      category { name parent { name } }
      skus {
        code price { amount } product { handle }
        here: availability(region: "1") { status quantityAvailable }
        everywhere: availability { status }
        deliveryOptions(region: "19") { tier fee { amount } slots { remainingCapacity } }
      }
    }
  }
}"""


async def statements_for(settings: Settings, adapters: Adapters, db: Database, first: int) -> int:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            seen.append(statement)

    async with api_client(settings, adapters) as client:
        gql = make_gql(client)
        # Warm up as a running server is: the key cached, today's slots made (2 statements, once a day).
        await gql(PAGE, {"first": first}, key="pk_test_big")
        event.listen(db.engine.sync_engine, "before_cursor_execute", record)
        db.statement_listeners.append(seen.append)  # what goes to the driver directly
        try:
            body = await gql(PAGE, {"first": first}, key="pk_test_big")
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", record)
            db.statement_listeners.remove(seen.append)
    assert len(body["data"]["products"]["nodes"]) == first
    assert all(len(n["skus"]) == 3 for n in body["data"]["products"]["nodes"])
    first_skus = body["data"]["products"]["nodes"][0]["skus"]
    assert [s["here"]["quantityAvailable"] for s in first_skus] == [0, 1, 2]
    assert [s["everywhere"]["status"] for s in first_skus] == ["IN_STOCK"] * 3
    assert [o["tier"] for o in first_skus[0]["deliveryOptions"]] == ["STANDARD", "SCHEDULED"]
    return len(seen)


@pytest.mark.parametrize(
    ("reference_seconds", "expected"),
    [
        # page, SKUs, stock and warehouses here and everywhere (each region's field is one
        # batch), delivery tiers, slots, categories, parent categories
        (0, 10),
        # a running worker holds the shop's reference data (categories, tiers, slots, coupons,
        # the page and its SKUs): only stock is read for each request
        (60, 2),
    ],
)
async def test_twenty_and_fifty_products_cost_the_same_statements(
    settings: Settings, sql: Adapters, db: Database, reference_seconds: float, expected: int
):
    # given 60 products with 3 SKUs each across 6 categories under one parent
    categories = [{"handle": "root", "name": "Root"}] + [
        {"handle": f"c{i}", "name": f"C{i}", "parent": "root"} for i in range(6)
    ]
    products = [
        product(f"p{i:02d}", category=f"c{i % 6}",
            skus=[sku(f"P{i:02d}-{j}", price=100 + i, stock={"N": j, "S": 10}) for j in range(3)])
        for i in range(60)
    ]
    warehouses = [{"code": "N", "regions": ["1"]}, {"code": "S", "regions": ["19"]}]
    tiers = [{"tier": "STANDARD", "title": "S", "fee": 600, "freeAbove": 10_000, "regions": ["*"]},
             {"tier": "SCHEDULED", "title": "T", "fee": 500, "regions": ["19"],
              "slots": {"days": 2, "windows": ["09:00-11:00", "19:00-21:00"], "capacity": 5, "timezone": "Asia/Shanghai"}}]
    data = catalog("big", products, categories=categories, warehouses=warehouses, delivery={"tiers": tiers})
    await sql.catalog.apply(parse_catalog(data, utcnow()), utcnow())
    # the page of fifty with every SKU's slots costs more than one operation may: allowed here
    # and the key and the shops' remote settings held for the whole test: a run slower than
    # JIMU_REVOCATION_SECONDS (a busy machine) would read them again, statements no page makes
    settings = replace(settings, reference_cache_seconds=reference_seconds, max_query_cost=1_000_000,
                       revocation_seconds=600)
    adapters = sql_adapters(settings, db)
    # when
    twenty = await statements_for(settings, adapters, db, 20)
    fifty = await statements_for(settings, adapters, db, 50)
    # then: nothing per product
    assert twenty == fifty == expected


ENTITIES = """query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Product {
      handle title priceRange { min { amount } }
      category { name parent { name } }
      skus {
        code price { amount } product { handle }
        here: availability(region: "1") { status quantityAvailable }
        everywhere: availability { status }
        deliveryOptions(region: "19") { tier fee { amount } slots { remainingCapacity } }
      }
    }
  }
}"""


async def entity_statements(settings: Settings, adapters: Adapters, db: Database, handles: list[str]) -> int:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            seen.append(statement)

    representations = [{"__typename": "Product", "handle": h} for h in handles]
    async with api_client(replace(settings, federation=True), adapters) as client:
        gql = make_gql(client)
        await gql(PAGE, {"first": 1}, key="pk_test_big")  # warm up as statements_for does
        event.listen(db.engine.sync_engine, "before_cursor_execute", record)
        db.statement_listeners.append(seen.append)
        try:
            body = await gql(ENTITIES, {"r": representations}, key="pk_test_big")
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", record)
            db.statement_listeners.remove(seen.append)
    assert "errors" not in body, body["errors"]
    assert [e["handle"] for e in body["data"]["_entities"]] == handles
    assert all(len(e["skus"]) == 3 for e in body["data"]["_entities"])
    return len(seen)


async def test_a_batch_of_entities_costs_what_a_page_costs(settings: Settings, sql: Adapters, db: Database):
    # given the same 60 products, and federation on
    categories = [{"handle": "root", "name": "Root"}] + [
        {"handle": f"c{i}", "name": f"C{i}", "parent": "root"} for i in range(6)
    ]
    products = [
        product(f"p{i:02d}", category=f"c{i % 6}",
            skus=[sku(f"P{i:02d}-{j}", price=100 + i, stock={"N": j, "S": 10}) for j in range(3)])
        for i in range(60)
    ]
    warehouses = [{"code": "N", "regions": ["1"]}, {"code": "S", "regions": ["19"]}]
    tiers = [{"tier": "STANDARD", "title": "S", "fee": 600, "freeAbove": 10_000, "regions": ["*"]},
             {"tier": "SCHEDULED", "title": "T", "fee": 500, "regions": ["19"],
              "slots": {"days": 2, "windows": ["09:00-11:00", "19:00-21:00"], "capacity": 5, "timezone": "Asia/Shanghai"}}]
    data = catalog("big", products, categories=categories, warehouses=warehouses, delivery={"tiers": tiers})
    await sql.catalog.apply(parse_catalog(data, utcnow()), utcnow())
    settings = replace(settings, reference_cache_seconds=0, max_query_cost=1_000_000, revocation_seconds=600)
    adapters = sql_adapters(settings, db)  # the remote settings held as the key is (above)
    # when: 20 and 50 products by handle (every other one, out of order), and a page of 20
    twenty = await entity_statements(settings, adapters, db, [f"p{i:02d}" for i in range(39, -1, -2)])
    fifty = await entity_statements(settings, adapters, db, [f"p{i:02d}" for i in range(5, 55)])
    page = await statements_for(settings, adapters, db, 20)
    # then: nothing per entity, and no more than the page
    assert twenty == fifty <= page
    assert (twenty, page) == (10, 10)  # the products by handle in place of the page: one statement either way
