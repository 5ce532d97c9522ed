"""The orders port: the same behaviour from the fake and from SQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.db import utcnow
from adapters.orders.port import (
    Cart,
    CartChanged,
    CartClosed,
    CartLine,
    Cost,
    Fulfillment,
    IdempotencyConflict,
    OrderDraft,
    OrderLine,
    OrderState,
    PaymentPlan,
    PaymentStatus,
    SalesGroup,
)
from adapters.paging import Window
from gateway.wiring import Adapters
from tests.conftest import load_demo
from tests.contract.test_delivery_contract import shop


@pytest.fixture
async def buyer(adapters: Adapters) -> tuple[int, int]:
    await load_demo(adapters)
    shop_id = await shop(adapters, "pk_demo_panda")
    return shop_id, (await adapters.shops.shopper_for_subject(shop_id, "dev:someone")).id


def draft(cart: Cart, key: str, number: str, total: int = 1_000, **extra) -> OrderDraft:
    values = dict(
        shop_id=cart.shop_id, shopper_id=cart.shopper_id, cart_id=cart.id, idempotency_key=key, number=number,
        lines=(OrderLine(sku_id=1, quantity=1, unit_price=total, title="Diapers", sku_title="L", sku_code="D-L"),),
        cost=Cost(subtotal=total, discount=0, delivery_fee=0, deposit_credit=0, total=total, due_now=total),
        plan=PaymentPlan.FULL, balance_method=None, coupon_ids=(), region="1", tier="STANDARD", slot_id=None,
        scene=None, channel=None, created_at=utcnow(), expires_at=utcnow() + timedelta(minutes=30),
    )
    return OrderDraft(**{**values, **extra})


async def test_a_cart_saves_whole_and_refuses_a_stale_copy(adapters: Adapters, buyer):
    shop_id, shopper_id = buyer
    cart = await adapters.orders.create_cart(shop_id, shopper_id)
    saved = await adapters.orders.save_cart(replace(cart, lines=(CartLine(None, 5, 2), CartLine(None, 6, 1)),
                                                    region="1", tier="STANDARD"))
    assert [(ln.sku_id, ln.quantity) for ln in saved.lines] == [(5, 2), (6, 1)]
    assert all(ln.id for ln in saved.lines) and saved.version == cart.version + 1
    with pytest.raises(CartChanged):
        await adapters.orders.save_cart(replace(cart, region="2"))
    kept = await adapters.orders.save_cart(replace(saved, lines=(replace(saved.lines[1], quantity=4),)))
    assert [(ln.id, ln.quantity) for ln in kept.lines] == [(saved.lines[1].id, 4)]
    [other_shop] = await adapters.orders.carts_by_id(shop_id + 1000, [cart.id])
    assert other_shop is None


async def test_begin_is_idempotent_per_key_and_claims_the_cart(adapters: Adapters, buyer):
    shop_id, shopper_id = buyer
    cart = await adapters.orders.create_cart(shop_id, shopper_id)
    first = await adapters.orders.begin(draft(cart, "k1", "N1"))
    again = await adapters.orders.begin(draft(cart, "k1", "N2"))
    assert first.created and not again.created and again.order.number == "N1"
    other = await adapters.orders.create_cart(shop_id, shopper_id)
    with pytest.raises(IdempotencyConflict):
        await adapters.orders.begin(draft(other, "k1", "N3"))
    with pytest.raises(CartClosed):
        await adapters.orders.begin(draft(cart, "k2", "N4"))
    [closed] = await adapters.orders.carts_by_id(shop_id, [cart.id])
    assert closed is not None
    with pytest.raises(CartClosed):
        await adapters.orders.save_cart(closed)
    # a PENDING order is nobody's to see
    assert await adapters.orders.orders_by_number(shop_id, ["N1"]) == [None]


async def test_failing_frees_the_key_and_the_cart(adapters: Adapters, buyer):
    shop_id, shopper_id = buyer
    cart = await adapters.orders.create_cart(shop_id, shopper_id)
    await adapters.orders.begin(draft(cart, "k1", "N1"))
    assert await adapters.orders.fail(shop_id, "N1")
    assert not await adapters.orders.fail(shop_id, "N1")
    assert await adapters.orders.order_by_key(shop_id, shopper_id, "k1") is None
    retried = await adapters.orders.begin(draft(cart, "k1", "N2"))
    assert retried.created and retried.order.number == "N2"
    assert [o.number for o in await adapters.orders.unreleased()] == ["N1"]


async def test_moves_happen_once_and_delivery_completes_only_a_paid_order(adapters: Adapters, buyer):
    shop_id, shopper_id = buyer
    orders = adapters.orders
    for n, status in enumerate((PaymentStatus.UNPAID, PaymentStatus.PAID)):
        cart = await orders.create_cart(shop_id, shopper_id)
        await orders.begin(draft(cart, f"k{n}", f"N{n}"))
        assert await orders.confirm(shop_id, f"N{n}", status)
        assert not await orders.confirm(shop_id, f"N{n}", status)
    unpaid = await orders.set_fulfillment(shop_id, "N0", Fulfillment.DELIVERED)
    paid = await orders.set_fulfillment(shop_id, "N1", Fulfillment.DELIVERED)
    assert unpaid is not None and unpaid.state is OrderState.OPEN
    assert paid is not None and paid.state is OrderState.COMPLETED
    assert not await orders.cancel(shop_id, "N1", utcnow()), "a paid order is not cancelled here"
    assert await orders.cancel(shop_id, "N0", utcnow())
    assert not await orders.cancel(shop_id, "N0", utcnow())


async def test_pages_are_newest_first_and_sales_count_what_was_placed(adapters: Adapters, buyer):
    shop_id, shopper_id = buyer
    orders = adapters.orders
    start = utcnow()
    for n, (scene, channel, total) in enumerate(((1089, "ads", 100), (1089, None, 200), (None, "ads", 400))):
        cart = await orders.create_cart(shop_id, shopper_id)
        await orders.begin(draft(cart, f"k{n}", f"N{n}", total=total, scene=scene, channel=channel))
        await orders.confirm(shop_id, f"N{n}", PaymentStatus.UNPAID)
    await orders.cancel(shop_id, "N1", utcnow())
    first = await orders.orders_page(shop_id, shopper_id, None, Window(2))
    assert [o.number for o in first.orders] == ["N2", "N1"] and first.has_next_page and first.total_count == 3
    assert not first.has_previous_page
    rest = await orders.orders_page(shop_id, shopper_id, None, Window(2, after=first.orders[-1].id))
    assert [o.number for o in rest.orders] == ["N0"] and not rest.has_next_page and rest.has_previous_page
    # backwards: the oldest two, then what comes before the newer of them
    oldest = await orders.orders_page(shop_id, shopper_id, None, Window(2, from_end=True))
    assert [o.number for o in oldest.orders] == ["N1", "N0"] and oldest.has_previous_page and not oldest.has_next_page
    newer = await orders.orders_page(shop_id, shopper_id, None, Window(2, before=oldest.orders[0].id, from_end=True))
    assert [o.number for o in newer.orders] == ["N2"] and not newer.has_previous_page and newer.has_next_page
    cancelled = await orders.orders_page(shop_id, None, OrderState.CANCELLED, Window(10))
    assert [o.number for o in cancelled.orders] == ["N1"]
    # nothing was paid: the sales count what was placed (the cancelled order too) and no money
    by_scene = await orders.sales(shop_id, SalesGroup.SCENE, start, None)
    assert [(r.key, r.placed_orders, r.placed, r.paid_orders, r.paid, r.net) for r in by_scene] == [
        ("", 1, 400, 0, 0, 0), ("1089", 2, 300, 0, 0, 0)]
    by_channel = await orders.sales(shop_id, SalesGroup.CHANNEL, None, None)
    assert [(r.key, r.placed_orders, r.placed) for r in by_channel] == [("ads", 2, 500), ("", 1, 200)]
    assert await orders.sales(shop_id, SalesGroup.CHANNEL, None, start) == []
