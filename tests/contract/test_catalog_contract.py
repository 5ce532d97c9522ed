"""The catalog store: stock modes and the import's counts, the same from the fake and from SQL."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from adapters.catalog.format import parse_catalog
from adapters.catalog.port import CatalogConflict, ImportReport, StockMode
from adapters.db import utcnow
from adapters.inventory.port import WantedLine
from adapters.shops.rules import hash_key
from gateway.demo import demo_files
from gateway.wiring import Adapters
from tests.factories import catalog, load_json, product, sku

NOW = utcnow()
LATER = NOW + timedelta(minutes=30)
WAREHOUSES = [{"code": "N", "regions": ["1"]}, {"code": "S", "regions": ["19"]}]


def stock_file(a: dict[str, int], b: dict[str, int] | None = None, title: str = "a") -> dict[str, Any]:
    """Shop "st": SKU A with the stock given, and SKU B with its own."""
    skus = [sku("A", stock=a), sku("B", stock=b if b is not None else {"N": 7})]
    return catalog("st", [product("a", title, skus=skus)], warehouses=WAREHOUSES)


async def apply(adapters: Adapters, data: dict[str, Any], stock: StockMode = StockMode.KEEP) -> ImportReport:
    return await adapters.catalog.apply(parse_catalog(data, NOW), NOW, stock=stock)


async def levels(adapters: Adapters, code: str) -> dict[str, tuple[int, int, int, int]]:
    """Warehouse -> (on hand, reserved, sold, available) of one SKU of shop "st"."""
    found = await adapters.shops.shop_for_key(hash_key("pk_test_st"))
    assert found is not None
    [found_sku] = await adapters.goods.skus_by_code(found[0].id, [code])
    assert found_sku is not None
    return {lv.warehouse_code: (lv.on_hand, lv.reserved, lv.sold, lv.available)
            for lv in await adapters.inventory.levels(found[0].id, found_sku.id)}


async def sell(adapters: Adapters, code: str, units: int, ref: str = "order-1", paid: bool = True) -> None:
    """Units of a SKU of shop "st" reserved in the north, and sold when ``paid``."""
    found = await adapters.shops.shop_for_key(hash_key("pk_test_st"))
    assert found is not None
    shop = found[0].id
    [found_sku] = await adapters.goods.skus_by_code(shop, [code])
    assert found_sku is not None
    held = await adapters.inventory.reserve(shop, ref, None, "1", [WantedLine(found_sku.id, units)], LATER)
    if paid:
        assert await adapters.inventory.commit(shop, held.id)


async def test_a_first_import_creates_the_stock_rows_with_the_files_figures(adapters: Adapters):
    # when
    report = await apply(adapters, stock_file({"N": 5, "S": 3}))
    # then
    assert await levels(adapters, "A") == {"N": (5, 0, 0, 5), "S": (3, 0, 0, 3)}
    assert (report.stock.created, report.stock.kept) == (3, 0)


async def test_by_default_a_reimport_leaves_existing_stock_and_the_sale_stays_sold(adapters: Adapters):
    # given 5 in the north, 2 of them sold and 1 reserved
    await apply(adapters, stock_file({"N": 5}))
    await sell(adapters, "A", 2)
    await sell(adapters, "A", 1, ref="order-2", paid=False)
    # when the same file comes again, and then one with another figure and a new warehouse row
    again = await apply(adapters, stock_file({"N": 5}))
    other = await apply(adapters, stock_file({"N": 9, "S": 4}))
    # then
    assert await levels(adapters, "A") == {"N": (5, 1, 2, 2), "S": (4, 0, 0, 4)}
    assert (again.stock.created, again.stock.kept, again.stock.differing) == (0, 2, 0)
    assert not again.changed
    assert (other.stock.created, other.stock.kept, other.stock.differing) == (1, 2, 1)


async def test_set_makes_on_hand_the_files_figure_and_keeps_what_is_held(adapters: Adapters):
    # given 5 in the north, 2 sold
    await apply(adapters, stock_file({"N": 5}))
    await sell(adapters, "A", 2)
    # when
    report = await apply(adapters, stock_file({"N": 9, "S": 4}), StockMode.SET)
    # then
    assert await levels(adapters, "A") == {"N": (9, 0, 2, 7), "S": (4, 0, 0, 4)}
    assert (report.stock.created, report.stock.set, report.stock.changed) == (1, 2, 1)  # B was at 7 already
    assert report.changed


async def test_set_below_what_is_reserved_and_sold_is_refused_with_the_path_and_nothing_is_written(
    adapters: Adapters,
):
    # given 5 in the north: 2 sold, 1 reserved; B with 7
    await apply(adapters, stock_file({"N": 5}))
    await sell(adapters, "A", 2)
    await sell(adapters, "A", 1, ref="order-2", paid=False)
    # when the file also renames the product and sets B, which alone would be fine
    with pytest.raises(CatalogConflict) as caught:
        await apply(adapters, stock_file({"N": 1}, {"N": 20}, title="renamed"), StockMode.SET)
    # then
    assert caught.value.problems == [(
        "products[0].skus[0].stock.N",
        "the file sets on hand to 1 but 3 are reserved or sold: available would be -2",
    )]
    assert await levels(adapters, "A") == {"N": (5, 1, 2, 2)}
    assert await levels(adapters, "B") == {"N": (7, 0, 0, 7)}
    found = await adapters.shops.shop_for_key(hash_key("pk_test_st"))
    assert found is not None
    [kept] = await adapters.goods.products_by_handle(found[0].id, ["a"])
    assert kept is not None and kept.title == "a"


async def test_set_to_exactly_what_is_reserved_and_sold_is_allowed(adapters: Adapters):
    await apply(adapters, stock_file({"N": 5}))
    await sell(adapters, "A", 2)
    await apply(adapters, stock_file({"N": 2}), StockMode.SET)
    assert await levels(adapters, "A") == {"N": (2, 0, 2, 0)}


async def test_add_receives_the_files_figures_on_top_of_what_is_there(adapters: Adapters):
    # given 5 in the north, 2 sold
    await apply(adapters, stock_file({"N": 5}))
    await sell(adapters, "A", 2)
    # when goods arrive: 10 to the north, 4 to a new row in the south, none of B
    report = await apply(adapters, stock_file({"N": 10, "S": 4}, {"N": 0}), StockMode.ADD)
    # then
    assert await levels(adapters, "A") == {"N": (15, 0, 2, 13), "S": (4, 0, 0, 4)}
    assert await levels(adapters, "B") == {"N": (7, 0, 0, 7)}
    stock = report.stock
    assert (stock.created, stock.received, stock.kept, stock.units) == (1, 1, 1, 14)


async def test_every_conflict_is_reported_at_once(adapters: Adapters):
    # given another shop holding a key, and a sale in this one
    await adapters.catalog.apply(parse_catalog(catalog("first", keys=("pk_shared_key", "sk_first_key")), NOW), NOW)
    await apply(adapters, stock_file({"N": 5}))
    await sell(adapters, "A", 3)
    data = stock_file({"N": 1}, {"N": 2})
    data["shop"]["keys"]["publishable"] = "pk_shared_key"
    # when
    with pytest.raises(CatalogConflict) as caught:
        await apply(adapters, data, StockMode.SET)
    # then
    assert [path for path, _ in caught.value.problems] == ["shop.keys.publishable", "products[0].skus[0].stock.N"]
    assert await levels(adapters, "B") == {"N": (7, 0, 0, 7)}


def demo_panda() -> dict[str, Any]:
    [panda] = [load_json(path) for path in demo_files() if path.stem == "panda"]
    return panda


def expected_fresh(data: dict[str, Any]) -> dict[str, dict[str, int]]:
    counts = {
        "shops": 1, "keys": 2, "categories": len(data["categories"]), "warehouses": len(data["warehouses"]),
        "products": len(data["products"]), "skus": sum(len(p["skus"]) for p in data["products"]),
        "delivery tiers": len(data["delivery"]["tiers"]), "coupon templates": len(data["coupons"]),
        "campaigns": len(data["campaigns"]),
    }
    return {kind: {"created": n} for kind, n in counts.items()}


def counted(report: ImportReport) -> dict[str, dict[str, int]]:
    return {kind: {outcome: n for outcome, n in c.items() if n} for kind, c in report.counts.items()}


async def test_the_counts_of_a_fresh_a_repeated_and_a_changed_import_are_right(adapters: Adapters):
    # given the demo shop, with categories that have parents
    data = demo_panda()
    assert any(cat.get("parent") for cat in data["categories"])
    # when it is imported into an empty store, then again
    fresh = await apply(adapters, data)
    repeated = await apply(adapters, data)
    # then
    assert counted(fresh) == expected_fresh(data)
    rows = sum(len(s.get("stock", {})) for p in data["products"] for s in p["skus"])
    assert (fresh.stock.created, fresh.stock.kept) == (rows, 0)
    assert counted(repeated) == {kind: {"unchanged": n["created"]} for kind, n in expected_fresh(data).items()}
    assert not repeated.changed and (repeated.stock.kept, repeated.stock.differing) == (rows, 0)

    # when one row of each kind changes
    changed = copy.deepcopy(data)
    changed["shop"]["name"] += " (new)"
    changed["categories"][1]["parent"] = None
    changed["warehouses"][0]["regions"].append("4")
    changed["products"][0]["title"] += " (new)"
    changed["products"][0]["skus"][0]["price"] += 100
    changed["delivery"]["tiers"][0]["fee"] += 100
    changed["coupons"][0]["title"] += " (new)"
    changed["campaigns"][0]["title"] += " (new)"
    report = await apply(adapters, changed)
    # then each says one updated, the rest unchanged
    expected = {}
    for kind, n in expected_fresh(data).items():
        updated = 0 if kind == "keys" else 1
        expected[kind] = {k: v for k, v in {"updated": updated, "unchanged": n["created"] - updated}.items() if v}
    assert counted(report) == expected
