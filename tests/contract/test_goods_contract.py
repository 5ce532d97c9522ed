"""The goods and catalog ports: the same behaviour from the fake and from SQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from adapters.catalog.format import parse_catalog
from adapters.catalog.port import CatalogConflict
from adapters.db import utcnow
from adapters.goods.port import ProductQuery, SortKey
from adapters.paging import Window
from adapters.shops.rules import hash_key
from gateway.wiring import Adapters
from tests.conftest import load_demo
from tests.factories import catalog, product, sku

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


async def shop_id(adapters: Adapters, key: str) -> int:
    found = await adapters.shops.shop_for_key(hash_key(key))
    assert found is not None
    return found[0].id


async def apply(adapters: Adapters, data: dict, now: datetime = T0):
    return await adapters.catalog.apply(parse_catalog(data, now), now)


async def walk(adapters: Adapters, shop: int, query: ProductQuery, page_size: int) -> list[str]:
    """Every product handle, page by page, following the positions the pages give."""
    handles, after = [], None
    while True:
        page = await adapters.goods.search_products(shop, query, Window(page_size, after=after))
        assert page.has_previous_page == (after is not None)
        handles += [p.handle for p, _ in page.items]
        if not page.has_next_page:
            return handles
        after = page.items[-1][1]


async def walk_back(adapters: Adapters, shop: int, query: ProductQuery, page_size: int) -> list[str]:
    """Every product handle, from the end, a page of ``last`` before the first of the page after."""
    handles: list[str] = []
    before = None
    while True:
        page = await adapters.goods.search_products(shop, query, Window(page_size, before=before, from_end=True))
        assert page.has_next_page == (before is not None)
        handles = [p.handle for p, _ in page.items] + handles
        if not page.has_previous_page:
            return handles
        before = page.items[0][1]


GRID = [
    # handle, title, brand, tags, prices
    ("b-wipes", "Baby Wipes 湿巾", "Panda", ["wipes"], [4990]),
    ("a-diaper", "云柔纸尿裤 L", "Panda", ["纸尿裤"], [15900, 16900]),
    ("c-watch", "Regatta 腕表", "Aurelian", ["luxury"], [13_000_000]),
    ("d-strap", "Strap for Regatta", "Aurelian", ["配件"], [680_000]),
    ("e-diaper", "夜用纸尿裤 XL", "Panda", ["diaper"], [15900]),
]


@pytest.fixture
async def grid(adapters: Adapters) -> int:
    products = [
        product(h, t, brand=b, tags=tags, skus=[sku(f"{h}-{i}".upper(), price=p) for i, p in enumerate(prices)])
        for h, t, b, tags, prices in GRID
    ]
    for offset, entry in enumerate(products):
        # created one day apart, in file order
        await apply(adapters, catalog("grid", [entry]), T0 + timedelta(days=offset))
    return await shop_id(adapters, "pk_test_grid")


async def test_batches_answer_in_key_order_with_none_for_the_unknown(adapters: Adapters, grid: int):
    page = await adapters.goods.search_products(grid, ProductQuery(), Window(10))
    ids = [p.id for p, _ in page.items]
    # when
    found = await adapters.goods.products_by_id(grid, [ids[2], 999_999, ids[0]])
    by_handle = await adapters.goods.products_by_handle(grid, ["c-watch", "nope", "a-diaper"])
    skus = await adapters.goods.skus_by_code(grid, ["A-DIAPER-1", "NOPE"])
    # then
    assert [p.id if p else None for p in found] == [ids[2], None, ids[0]]
    assert [p.handle if p else None for p in by_handle] == ["c-watch", None, "a-diaper"]
    assert skus[0] is not None and skus[0].price == 16900 and skus[1] is None


async def test_skus_come_grouped_by_product_in_catalog_order(adapters: Adapters, grid: int):
    [diaper, watch] = await adapters.goods.products_by_handle(grid, ["a-diaper", "c-watch"])
    groups = await adapters.goods.skus_by_product(grid, [watch.id, diaper.id, 424242])
    assert [[s.code for s in g] for g in groups] == [["C-WATCH-0"], ["A-DIAPER-0", "A-DIAPER-1"], []]
    assert (diaper.min_price, diaper.max_price) == (15900, 16900)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("纸尿裤", {"a-diaper", "e-diaper"}),
        ("REGATTA", {"c-watch", "d-strap"}),
        ("aurelian", {"c-watch", "d-strap"}),
        ("Diaper", {"e-diaper"}),
        ("  湿巾 ", {"b-wipes"}),
        ("100%", set()),
        ("_", set()),
    ],
)
async def test_search_matches_title_brand_and_tags_ignoring_case(adapters: Adapters, grid: int, text, expected):
    query = ProductQuery(text=text)
    assert set(await walk(adapters, grid, query, 10)) == expected
    assert await adapters.goods.count_products(grid, query) == len(expected)


async def test_relevance_puts_title_matches_first(adapters: Adapters, grid: int):
    # "regatta" is in both titles; "luxury" only in a tag
    assert await walk(adapters, grid, ProductQuery(text="regatta"), 10) == ["c-watch", "d-strap"]
    assert await walk(adapters, grid, ProductQuery(text="panda"), 10) == ["b-wipes", "a-diaper", "e-diaper"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (SortKey.RELEVANCE, ["b-wipes", "a-diaper", "c-watch", "d-strap", "e-diaper"]),
        (SortKey.PRICE, ["b-wipes", "a-diaper", "e-diaper", "d-strap", "c-watch"]),
        (SortKey.CREATED_AT, ["b-wipes", "a-diaper", "c-watch", "d-strap", "e-diaper"]),
        (SortKey.TITLE, ["b-wipes", "c-watch", "d-strap", "a-diaper", "e-diaper"]),
    ],
)
@pytest.mark.parametrize("page_size", [1, 2, 5])
async def test_every_ordering_pages_through_all_products_once(adapters: Adapters, grid: int, sort, expected, page_size):
    assert await walk(adapters, grid, ProductQuery(sort=sort), page_size) == expected
    assert await walk(adapters, grid, ProductQuery(sort=sort, reverse=True), page_size) == expected[::-1]
    assert await walk_back(adapters, grid, ProductQuery(sort=sort), page_size) == expected
    assert await walk_back(adapters, grid, ProductQuery(sort=sort, reverse=True), page_size) == expected[::-1]


async def test_a_window_between_two_cursors_counts_from_its_own_end(adapters: Adapters, grid: int):
    query = ProductQuery(sort=SortKey.PRICE)
    everything = (await adapters.goods.search_products(grid, query, Window(100))).items
    [_, low, *_, high] = [at for _, at in everything]  # second cheapest and dearest
    first = await adapters.goods.search_products(grid, query, Window(2, after=low, before=high))
    last = await adapters.goods.search_products(grid, query, Window(2, after=low, before=high, from_end=True))
    # the two between a-diaper and c-watch, from either end; cursors on both sides mean more on both
    assert [p.handle for p, _ in first.items] == ["e-diaper", "d-strap"]
    assert [p.handle for p, _ in last.items] == ["e-diaper", "d-strap"]
    assert (first.has_next_page, first.has_previous_page) == (True, True)
    assert (last.has_next_page, last.has_previous_page) == (True, True)
    one = await adapters.goods.search_products(grid, query, Window(1, after=low, before=high, from_end=True))
    assert [p.handle for p, _ in one.items] == ["d-strap"]


async def test_price_filters_match_any_sku_in_range(adapters: Adapters, grid: int):
    assert set(await walk(adapters, grid, ProductQuery(min_price=16000, max_price=700_000), 10)) == {
        "a-diaper",
        "d-strap",
    }
    assert set(await walk(adapters, grid, ProductQuery(min_price=1_000_000), 10)) == {"c-watch"}
    assert await walk(adapters, grid, ProductQuery(max_price=100), 10) == []


async def test_a_category_filter_includes_the_categories_below(adapters: Adapters):
    # given the demo: diapers and wipes sit under baby
    await load_demo(adapters)
    panda = await shop_id(adapters, "pk_demo_panda")
    # then
    assert set(await walk(adapters, panda, ProductQuery(category_handle="baby"), 10)) == {
        "diaper-soft",
        "wipes-80",
        "sample-pack",
    }
    assert set(await walk(adapters, panda, ProductQuery(category_handle="wipes"), 10)) == {"wipes-80"}
    assert await walk(adapters, panda, ProductQuery(category_handle="unknown"), 10) == []


async def test_a_shop_never_sees_another_shops_goods(adapters: Adapters):
    # given
    await load_demo(adapters)
    panda = await shop_id(adapters, "pk_demo_panda")
    aurelian = await shop_id(adapters, "pk_demo_aurelian")
    watch = (await adapters.goods.products_by_handle(aurelian, ["regatta-41"]))[0]
    # then
    assert await adapters.goods.products_by_id(panda, [watch.id]) == [None]
    assert await adapters.goods.products_by_handle(panda, ["regatta-41"]) == [None]
    assert await adapters.goods.skus_by_code(panda, ["WATCH-RG41-STEEL"]) == [None]
    assert await adapters.goods.skus_by_product(panda, [watch.id]) == [[]]
    assert "regatta-41" not in await walk(adapters, panda, ProductQuery(), 100)
    assert all(c.shop_id == panda for c in await adapters.goods.categories(panda))


async def test_deposit_policies_and_options_are_kept_as_imported(adapters: Adapters):
    await load_demo(adapters)
    aurelian = await shop_id(adapters, "pk_demo_aurelian")
    [steel, strap] = await adapters.goods.skus_by_code(aurelian, ["WATCH-RG41-STEEL", "STRAP-ALLI-BLK"])
    assert steel.deposit_policy is not None
    assert (steel.deposit_policy.deposit, steel.deposit_policy.credited_value) == (1_000_000, 1_200_000)
    assert steel.deposit_policy.balance_methods == ("POS_ON_DELIVERY",)
    assert steel.options == (("material", "精钢"),)
    assert steel.purchase_limit == 1 and steel.premium_delivery_eligible
    assert strap.deposit_policy is None and strap.compare_at_price == 800_000


async def test_importing_the_same_file_twice_changes_nothing(adapters: Adapters):
    # given
    data = catalog("twice", [product("p", skus=[sku("A"), sku("B")])], categories=[{"handle": "c", "name": "C"}])
    first = await apply(adapters, data)
    # when
    second = await apply(adapters, data, T0 + timedelta(days=1))
    # then
    assert first.changed and first.counts["skus"]["created"] == 2
    assert not second.changed
    assert second.counts["products"]["unchanged"] == 1 and second.counts["skus"]["unchanged"] == 2


async def test_a_changed_row_is_updated_in_place(adapters: Adapters):
    # given
    await apply(adapters, catalog("upd", [product("p", skus=[sku("A", price=100)])]))
    shop = await shop_id(adapters, "pk_test_upd")
    [before] = await adapters.goods.skus_by_code(shop, ["A"])
    # when
    report = await apply(adapters, catalog("upd", [product("p", "New title", skus=[sku("A", price=250)])]))
    # then
    [after] = await adapters.goods.skus_by_code(shop, ["A"])
    [prod] = await adapters.goods.products_by_handle(shop, ["p"])
    assert report.counts["skus"]["updated"] == 1 and report.counts["products"]["updated"] == 1
    assert after.id == before.id and after.price == 250
    assert prod.title == "New title" and prod.min_price == 250
    assert prod.created_at == T0  # a product keeps the time it was first created


async def test_a_key_held_by_another_shop_stops_the_import_with_nothing_written(adapters: Adapters):
    # given
    await apply(adapters, catalog("first", keys=("pk_shared_key", "sk_first_key")))
    data = catalog("second", [product("p")], keys=("pk_shared_key", "sk_second_key"))
    # when
    with pytest.raises(CatalogConflict) as caught:
        await apply(adapters, data)
    # then
    assert caught.value.path == "shop.keys.publishable"
    assert await adapters.shops.shop_for_key(hash_key("sk_second_key")) is None
    first = await shop_id(adapters, "pk_shared_key")
    assert await adapters.goods.products_by_handle(first, ["p"]) == [None]


async def test_the_first_login_of_a_subject_makes_one_shopper(adapters: Adapters):
    await load_demo(adapters)
    panda = await shop_id(adapters, "pk_demo_panda")
    aurelian = await shop_id(adapters, "pk_demo_aurelian")
    one = await adapters.shops.shopper_for_subject(panda, "dev:alice")
    again = await adapters.shops.shopper_for_subject(panda, "dev:alice")
    elsewhere = await adapters.shops.shopper_for_subject(aurelian, "dev:alice")
    assert one == again
    assert elsewhere.id != one.id  # a shopper belongs to one shop
    assert await adapters.shops.shoppers_by_id(panda, [elsewhere.id, one.id]) == [None, one]


async def test_a_shop_handle_is_taken_once(adapters: Adapters):
    from adapters.shops.port import KeyKind, ShopExists

    await adapters.shops.create_shop("solo", "Solo", {KeyKind.PUBLISHABLE: hash_key("pk_solo_1")})
    with pytest.raises(ShopExists):
        await adapters.shops.create_shop("solo", "Solo again", {KeyKind.PUBLISHABLE: hash_key("pk_solo_2")})
    assert await adapters.shops.shop_for_key(hash_key("pk_solo_2")) is None
    assert utcnow() > T0


async def test_many_first_logins_of_one_subject_at_once_make_one_shopper(adapters: Adapters):
    import asyncio

    # given
    await load_demo(adapters)
    panda = await shop_id(adapters, "pk_demo_panda")
    # when 20 sign-ins race, each on its own connection for the SQL store
    shoppers = await asyncio.gather(*(adapters.shops.shopper_for_subject(panda, "dev:rush") for _ in range(20)))
    # then
    assert len({s.id for s in shoppers}) == 1


async def test_a_filter_by_tens_of_thousands_of_sku_ids_still_answers(adapters: Adapters, grid: int):
    # A big shop's "in stock in this region" can name more SKUs than a driver takes parameters.
    [a_diaper] = await adapters.goods.skus_by_code(grid, ["A-DIAPER-0"])
    many = frozenset(range(10_000_000, 10_040_000)) | {a_diaper.id}
    query = ProductQuery(sku_ids=many)
    assert await walk(adapters, grid, query, 10) == ["a-diaper"]
    assert await adapters.goods.count_products(grid, query) == 1
