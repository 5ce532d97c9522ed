"""The inventory port: the same behaviour from the fake and from SQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from adapters.catalog.format import parse_catalog
from adapters.catalog.port import StockMode
from adapters.db import utcnow
from adapters.inventory import rules
from adapters.inventory.port import (
    OutOfStock,
    PurchaseLimitExceeded,
    ReservationState,
    UnknownWarehouse,
    WantedLine,
)
from adapters.shops.rules import hash_key
from gateway.wiring import Adapters
from tests.factories import catalog, product, sku

NOW = utcnow()
LATER = NOW + timedelta(minutes=30)


async def stocked(adapters: Adapters, stock: dict[str, dict[str, int]], handle: str = "inv") -> tuple[int, dict[str, int]]:
    """A shop with warehouses N (north: 1, 3) and S (south: 19, 20) and SKUs with the given stock."""
    data = catalog(
        handle,
        [product(code.lower(), skus=[sku(code, stock=levels)]) for code, levels in stock.items()],
        warehouses=[{"code": "N", "regions": ["1", "3"]}, {"code": "S", "regions": ["19", "20"]}],
    )
    await adapters.catalog.apply(parse_catalog(data, NOW), NOW)
    found = await adapters.shops.shop_for_key(hash_key(f"pk_test_{handle}"))
    assert found is not None
    shop_id = found[0].id
    skus = await adapters.goods.skus_by_code(shop_id, list(stock))
    return shop_id, {s.code: s.id for s in skus if s}


async def test_availability_counts_the_warehouses_serving_the_region(adapters: Adapters):
    shop, ids = await stocked(adapters, {"A": {"N": 4, "S": 10}, "B": {"S": 0}})
    found = await adapters.inventory.available(
        shop, [(ids["A"], "1_72"), (ids["A"], "19_1601"), (ids["A"], None), (ids["A"], "26"), (ids["B"], "19")]
    )
    assert found == [4, 10, 14, 0, 0]
    assert await adapters.inventory.skus_in_stock(shop, "19") == {ids["A"]}
    assert await adapters.inventory.skus_in_stock(shop, "26") == set()


async def test_a_reservation_holds_units_until_committed_or_released(adapters: Adapters):
    # given
    shop, ids = await stocked(adapters, {"A": {"N": 5}})
    inv = adapters.inventory
    # when
    held = await inv.reserve(shop, "r1", None, "1", [WantedLine(ids["A"], 3)], LATER)
    # then
    assert held.state is ReservationState.ACTIVE and [(h.warehouse_code, h.quantity) for h in held.lines] == [("N", 3)]
    assert await inv.available(shop, [(ids["A"], "1")]) == [2]
    assert await inv.commit(shop, held.id) is True
    assert await inv.commit(shop, held.id) is False, "a commit happens once"
    [level] = await inv.levels(shop, ids["A"])
    assert (level.on_hand, level.reserved, level.sold, level.available) == (5, 0, 3, 2)
    assert await inv.release(shop, held.id) is True, "a paid order can still be cancelled"
    assert await inv.release(shop, held.id) is False, "a release happens once"
    [level] = await inv.levels(shop, ids["A"])
    assert (level.reserved, level.sold, level.available) == (0, 0, 5)


async def test_a_release_by_ref_gives_back_what_the_ref_holds_once(adapters: Adapters):
    shop, ids = await stocked(adapters, {"A": {"N": 5}})
    inv = adapters.inventory
    await inv.reserve(shop, "r1", None, "1", [WantedLine(ids["A"], 3)], LATER)
    assert await inv.release_ref(shop, "r1") is True
    assert await inv.release_ref(shop, "r1") is False, "a release happens once"
    assert await inv.release_ref(shop, "nothing-held") is False
    assert await inv.available(shop, [(ids["A"], "1")]) == [5]


async def test_all_lines_or_none(adapters: Adapters):
    # given B has too little
    shop, ids = await stocked(adapters, {"A": {"N": 5}, "B": {"N": 1}})
    # when
    with pytest.raises(OutOfStock) as caught:
        await adapters.inventory.reserve(shop, "r", None, "1", [WantedLine(ids["A"], 2), WantedLine(ids["B"], 2)], LATER)
    # then nothing is held, and the error names the SKU at fault
    assert caught.value.sku_ids == [ids["B"]]
    assert await adapters.inventory.available(shop, [(ids["A"], None), (ids["B"], None)]) == [5, 1]


async def test_two_lines_of_one_sku_over_its_stock_are_refused_whole(adapters: Adapters):
    shop, ids = await stocked(adapters, {"A": {"N": 3}})
    with pytest.raises(OutOfStock):
        await adapters.inventory.reserve(shop, "r", None, "1", [WantedLine(ids["A"], 2), WantedLine(ids["A"], 2)], LATER)
    assert await adapters.inventory.available(shop, [(ids["A"], None)]) == [3]


async def test_a_reservation_only_uses_warehouses_serving_its_region(adapters: Adapters):
    shop, ids = await stocked(adapters, {"A": {"N": 1, "S": 9}})
    with pytest.raises(OutOfStock):
        await adapters.inventory.reserve(shop, "r", None, "3_51", [WantedLine(ids["A"], 2)], LATER)
    with pytest.raises(OutOfStock):
        await adapters.inventory.reserve(shop, "r", None, "26", [WantedLine(ids["A"], 1)], LATER)
    south = await adapters.inventory.reserve(shop, "r", None, "20", [WantedLine(ids["A"], 9)], LATER)
    assert [(h.warehouse_code, h.quantity) for h in south.lines] == [("S", 9)]


async def test_the_same_ref_returns_the_first_reservation(adapters: Adapters):
    shop, ids = await stocked(adapters, {"A": {"N": 5}})
    first = await adapters.inventory.reserve(shop, "same", None, "1", [WantedLine(ids["A"], 2)], LATER)
    again = await adapters.inventory.reserve(shop, "same", None, "1", [WantedLine(ids["A"], 3)], LATER)
    assert again == first
    assert await adapters.inventory.available(shop, [(ids["A"], None)]) == [3]


async def test_a_purchase_limit_counts_every_order_that_is_not_cancelled(adapters: Adapters):
    # given a limit of 2 per shopper
    shop, ids = await stocked(adapters, {"A": {"N": 50}})
    inv, line = adapters.inventory, WantedLine(ids["A"], 1, purchase_limit=2)
    first = await inv.reserve(shop, "o1", 7, "1", [line], LATER)
    await inv.commit(shop, first.id)
    await inv.reserve(shop, "o2", 7, "1", [line], LATER)
    # when a third unit is asked for, whatever the state of the first two
    with pytest.raises(PurchaseLimitExceeded) as caught:
        await inv.reserve(shop, "o3", 7, "1", [line], LATER)
    # then it is refused; another shopper is not affected; a cancellation frees the allowance
    assert caught.value.sku_ids == [ids["A"]]
    await inv.reserve(shop, "o4", 8, "1", [WantedLine(ids["A"], 2, purchase_limit=2)], LATER)
    assert await inv.release(shop, first.id)
    await inv.reserve(shop, "o5", 7, "1", [line], LATER)
    assert await inv.available(shop, [(ids["A"], None)]) == [46]


async def test_expiry_releases_active_reservations_past_their_time_once(adapters: Adapters):
    # given one due, one not yet due, one committed
    shop, ids = await stocked(adapters, {"A": {"N": 10}})
    inv, a = adapters.inventory, ids["A"]
    due = await inv.reserve(shop, "due", 3, "1", [WantedLine(a, 2, purchase_limit=5)], NOW - timedelta(seconds=1))
    later = await inv.reserve(shop, "later", None, "1", [WantedLine(a, 3)], LATER)
    paid = await inv.reserve(shop, "paid", None, "1", [WantedLine(a, 1)], NOW - timedelta(seconds=1))
    await inv.commit(shop, paid.id)
    # when
    expired = await inv.expire_due(NOW)
    again = await inv.expire_due(NOW)
    # then
    assert [r.id for r in expired] == [due.id] and again == []
    assert expired[0].state is ReservationState.EXPIRED
    assert await inv.commit(shop, due.id) is False, "an expired reservation cannot be paid"
    assert await inv.release(shop, due.id) is False
    assert (await inv.reservation(shop, later.id)).state is ReservationState.ACTIVE
    assert await inv.available(shop, [(a, None)]) == [6]
    # the expired units no longer count against the shopper's limit
    await inv.reserve(shop, "again", 3, "1", [WantedLine(a, 5, purchase_limit=5)], LATER)


async def test_setting_stock_sets_what_is_sellable_and_keeps_what_is_held(adapters: Adapters):
    shop, ids = await stocked(adapters, {"A": {"N": 5}})
    inv = adapters.inventory
    await inv.reserve(shop, "r", None, "1", [WantedLine(ids["A"], 2)], LATER)
    # when
    await inv.set_available(shop, ids["A"], "N", 10)
    await inv.set_available(shop, ids["A"], "S", 1)
    # then
    assert [(lv.warehouse_code, lv.on_hand, lv.reserved, lv.available) for lv in await inv.levels(shop, ids["A"])] == [
        ("N", 12, 2, 10),
        ("S", 1, 0, 1),
    ]
    with pytest.raises(UnknownWarehouse):
        await inv.set_available(shop, ids["A"], "MOON", 1)


async def test_a_shop_never_touches_another_shops_stock(adapters: Adapters):
    shop, ids = await stocked(adapters, {"A": {"N": 5}})
    other, _ = await stocked(adapters, {"X": {"N": 5}}, handle="other")
    held = await adapters.inventory.reserve(shop, "r", None, "1", [WantedLine(ids["A"], 1)], LATER)
    assert await adapters.inventory.available(other, [(ids["A"], None)]) == [0]
    assert await adapters.inventory.commit(other, held.id) is False
    assert await adapters.inventory.release(other, held.id) is False
    assert await adapters.inventory.reservation(other, held.id) is None
    with pytest.raises(OutOfStock):
        await adapters.inventory.reserve(other, "r", None, "1", [WantedLine(ids["A"], 1)], LATER)


async def test_importing_stock_twice_changes_nothing_and_keeps_reservations(adapters: Adapters):
    # given 5 on hand, 2 of them reserved
    shop, ids = await stocked(adapters, {"A": {"N": 5}})
    await adapters.inventory.reserve(shop, "r", None, "1", [WantedLine(ids["A"], 2)], LATER)
    data = catalog("inv", [product("a", skus=[sku("A", stock={"N": 4})])],
                   warehouses=[{"code": "N", "regions": ["1", "3"]}, {"code": "S", "regions": ["19", "20"]}])
    # when the file sets on hand to 4, twice
    first = await adapters.catalog.apply(parse_catalog(data, NOW), NOW, stock=StockMode.SET)
    second = await adapters.catalog.apply(parse_catalog(data, NOW), NOW, stock=StockMode.SET)
    # then
    assert (first.stock.changed, second.stock.set, second.stock.changed) == (1, 1, 0)
    [level] = await adapters.inventory.levels(shop, ids["A"])
    assert (level.on_hand, level.available, level.reserved) == (4, 2, 2)


async def test_reserve_needs_positive_quantities(adapters: Adapters):
    shop, ids = await stocked(adapters, {"A": {"N": 5}})
    with pytest.raises(ValueError):
        await adapters.inventory.reserve(shop, "r", None, "1", [WantedLine(ids["A"], 0)], LATER)
    assert isinstance(LATER, datetime)


async def test_units_by_warehouse_add_up_to_what_a_region_can_buy(adapters: Adapters):
    # given stock in both warehouses, one reserved, and a SKU with none
    shop, ids = await stocked(adapters, {"A": {"N": 4, "S": 10}, "B": {"S": 0}, "C": {}})
    await adapters.inventory.reserve(shop, "order-1", None, "1", [WantedLine(ids["A"], 3)], LATER)
    sku_ids = list(ids.values())
    # when
    warehouses = await adapters.inventory.warehouses(shop)
    # then
    assert [(w.code, w.regions) for w in warehouses] == [("N", ("1", "3")), ("S", ("19", "20"))]
    assert await adapters.inventory.units(shop, sku_ids, ["N"]) == {ids["A"]: 1, ids["B"]: 0, ids["C"]: 0}
    assert await adapters.inventory.units(shop, sku_ids, []) == dict.fromkeys(sku_ids, 0)
    for region in (None, "1", "1_72_2799_0", "19_1601", "26"):  # the storefront's sum is the exact read
        exact = await adapters.inventory.available(shop, [(sku_id, region) for sku_id in sku_ids])
        units = await adapters.inventory.units(shop, sku_ids, rules.serving(warehouses, region))
        assert [units[s] for s in sku_ids] == exact
