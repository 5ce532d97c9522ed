"""Changing one stored product as its catalog file, and archiving it: the same from the fake and
from SQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.catalog.format import CatalogInvalid, parse_catalog
from adapters.catalog.port import CatalogConflict, Fresh
from adapters.db import utcnow
from adapters.goods.port import Product, ProductQuery
from adapters.paging import Window
from gateway.wiring import Adapters
from tests.factories import catalog, product, sku

NOW = utcnow()


async def stored(adapters: Adapters) -> tuple[int, Product]:
    """Shop "rv" with product "a" (SKUs A at 10.00 and B at 20.00) and product "b"."""
    data = catalog("rv", [product("a", "Alpha", skus=[sku("A", price=1000), sku("B", price=2000)]),
                          product("b", "Beta", skus=[sku("C")])])
    await adapters.catalog.apply(parse_catalog(data, NOW), NOW)
    [shop] = await adapters.shops.shops_by_handle(["rv"])
    assert shop is not None
    [found] = await adapters.goods.products_by_handle(shop.id, ["a"])
    assert found is not None
    return shop.id, found


def editing(**changes: Any):
    def edit(data: dict[str, Any]) -> dict[str, Any]:
        data["products"][0].update(changes)
        return data
    return edit


async def handles(adapters: Adapters, shop_id: int) -> list[str]:
    page = await adapters.goods.search_products(shop_id, ProductQuery(), Window(size=10))
    return sorted(p.handle for p, _ in page.items)


async def test_a_revision_sees_the_stored_product_and_writes_what_the_edit_changed(adapters: Adapters):
    # given a stored product
    shop_id, a = await stored(adapters)
    seen: list[dict[str, Any]] = []

    def edit(data: dict[str, Any]) -> dict[str, Any]:
        seen.append(data["products"][0])
        data["products"][0]["title"] = "Alpha 2"
        data["products"][0]["skus"][1]["price"] = 500
        return data

    # when it is revised
    revised = await adapters.catalog.revise(shop_id, a.id, edit, NOW)
    # then the edit saw it as its file entry, and what it changed is stored, the price range too
    assert [s["code"] for s in seen[0]["skus"]] == ["A", "B"] and seen[0]["handle"] == "a"
    assert revised is not None and revised.title == "Alpha 2"
    assert (revised.min_price, revised.max_price) == (500, 1000)
    [b] = await adapters.goods.skus_by_code(shop_id, ["B"])
    assert b is not None and b.price == 500
    [other] = await adapters.goods.products_by_handle(shop_id, ["b"])
    assert other is not None and other.title == "Beta"


async def test_a_revision_the_rules_refuse_writes_nothing(adapters: Adapters):
    shop_id, a = await stored(adapters)
    with pytest.raises(CatalogInvalid) as refused:
        await adapters.catalog.revise(shop_id, a.id, editing(title=" ", category="nowhere"), NOW)
    assert {path for path, _ in refused.value.problems} == {"products[0].title", "products[0].category"}
    [same] = await adapters.goods.products_by_id(shop_id, [a.id])
    assert same == a


async def test_a_fresh_code_the_shop_holds_is_a_conflict_at_its_place(adapters: Adapters):
    shop_id, a = await stored(adapters)

    def add(data: dict[str, Any]) -> dict[str, Any]:
        data["products"][0]["skus"].append(sku("C"))  # product b's
        return data

    with pytest.raises(CatalogConflict) as refused:
        await adapters.catalog.revise(shop_id, a.id, add, NOW, fresh=Fresh(codes=frozenset(["C"])))
    assert refused.value.problems == [("products[0].skus[2].code", "the shop has a SKU 'C' already")]
    assert [len(s) for s in await adapters.goods.skus_by_product(shop_id, [a.id])] == [2]


async def test_another_shops_product_is_not_revised_or_archived(adapters: Adapters):
    shop_id, a = await stored(adapters)
    await adapters.catalog.apply(parse_catalog(catalog("other", [product("z")]), NOW), NOW)
    [other] = await adapters.shops.shops_by_handle(["other"])
    assert other is not None
    assert await adapters.catalog.revise(other.id, a.id, editing(title="x"), NOW) is None
    assert await adapters.catalog.archive(other.id, a.id, NOW) is None
    [same] = await adapters.goods.products_by_id(shop_id, [a.id])
    assert same == a


async def test_an_archived_product_leaves_search_keeps_its_time_and_comes_back(adapters: Adapters):
    shop_id, a = await stored(adapters)
    archived = await adapters.catalog.archive(shop_id, a.id, NOW)
    assert archived is not None and archived.archived_at == NOW
    assert await handles(adapters, shop_id) == ["b"]
    assert await adapters.goods.count_products(shop_id, ProductQuery()) == 1
    again = await adapters.catalog.archive(shop_id, a.id, utcnow())
    assert again is not None and again.archived_at == NOW
    # still found by id, as the orders holding its SKUs read it
    [held] = await adapters.goods.products_by_id(shop_id, [a.id])
    assert held is not None and held.archived_at == NOW
    # a re-import leaves it archived
    await adapters.catalog.apply(parse_catalog(catalog("rv", [product("a", "Alpha")]), NOW), NOW)
    assert await handles(adapters, shop_id) == ["b"]
    back = await adapters.catalog.archive(shop_id, a.id, None)
    assert back is not None and back.archived_at is None
    assert await handles(adapters, shop_id) == ["a", "b"]


async def test_imports_revisions_and_creations_of_one_shop_at_once_all_hold(adapters: Adapters):
    # given a stored product, and writers of the same shop's catalog at once: whole-file imports
    # (which update product a), revisions of a, and two creations of one fresh handle
    shop_id, a = await stored(adapters)

    async def imported(n: int) -> str:
        data = catalog("rv", [product("a", f"Alpha {n}", skus=[sku("A", price=1000), sku("B", price=2000)])])
        await adapters.catalog.apply(parse_catalog(data, NOW), NOW)
        return "imported"

    async def revised(n: int) -> str:
        await adapters.catalog.revise(shop_id, a.id, editing(title=f"Alpha {n}"), NOW)
        return "revised"

    async def created() -> str:
        data = catalog("rv", [product("twin", "Twin", skus=[sku("T")])])
        try:
            await adapters.catalog.apply(parse_catalog(data, NOW), NOW,
                                         fresh=Fresh(handles=frozenset(["twin"]), codes=frozenset(["T"])))
        except CatalogConflict:
            return "refused"
        return "created"

    # when they run together (on PostgreSQL, each in its own connection)
    done = await asyncio.gather(*(imported(n) for n in range(3)), *(revised(n) for n in range(3)),
                                created(), created())
    # then none waited in a cycle or lost its write, and the fresh handle was made once
    assert sorted(done) == ["created", "imported", "imported", "imported", "refused",
                            "revised", "revised", "revised"]
    [stored_a] = await adapters.goods.products_by_handle(shop_id, ["a"])
    assert stored_a is not None and stored_a.title in {f"Alpha {n}" for n in range(3)}
    assert [len(s) for s in await adapters.goods.skus_by_product(shop_id, [a.id])] == [2]
