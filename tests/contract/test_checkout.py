"""Checkout is all or nothing: cut it at any step and nothing stays held.

Runs on the fake adapters and on SQL. Each step is cut in two ways: the step
raises after doing its work (the checkout undoes it at once), or the process
"dies" there (nothing in the request undoes it; the sweep must).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest

from adapters.coupons.port import (
    CouponKind,
    CouponState,
    Scope,
    Source,
    StackingGroup,
    TemplateSpec,
)
from adapters.db import utcnow
from adapters.delivery.port import QuoteLine, Tier
from adapters.orders.checkout import STALE_CHECKOUT, Checkout, CheckoutRefused
from adapters.orders.port import (
    Cart,
    CartClosed,
    CartLine,
    IdempotencyConflict,
    OrderState,
    PaymentStatus,
)
from adapters.orders.pricing import CartPricer
from adapters.paging import Window
from adapters.remote.client import RemoteUnavailable
from adapters.shops.rules import hash_key
from gateway.wiring import Adapters
from tests.conftest import load_demo

REGION = "1_72_2799_0"
CAP = 5_000_000


class Crash(BaseException):
    """The process dies here: no except-clause of the checkout sees it."""


class Cut:
    """A port whose ``method`` does its work and then fails with ``error``."""

    def __init__(self, inner: Any, method: str, error: BaseException) -> None:
        self._inner, self._method, self._error = inner, method, error

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name != self._method:
            return attr

        async def cut(*args: Any, **kwargs: Any) -> Any:
            await attr(*args, **kwargs)
            raise self._error

        return cut


@dataclass
class World:
    adapters: Adapters
    shop_id: int
    shopper_id: int
    skus: dict[str, int]
    coupon_id: int
    slot_id: int

    def checkout(self, port: str | None = None, method: str | None = None, error: BaseException | None = None,
                 ttl: timedelta = timedelta(minutes=30), stale: timedelta | None = None) -> Checkout:
        a = self.adapters
        ports = {"orders": a.orders, "inventory": a.inventory, "coupons": a.coupons, "delivery": a.delivery}
        if port is not None:
            assert method is not None and error is not None
            ports[port] = Cut(ports[port], method, error)
        pricer = CartPricer(a.goods, a.inventory, a.delivery, a.coupons)
        return Checkout(ports["orders"], ports["inventory"], ports["coupons"], ports["delivery"], pricer, ttl,
                        stale or STALE_CHECKOUT)

    async def cart(self, quantity: int = 2, sku: str = "DIAPER-L54", coupons: bool = True) -> Cart:
        cart = await self.adapters.orders.create_cart(self.shop_id, self.shopper_id)
        return await self.adapters.orders.save_cart(replace(
            cart, lines=(CartLine(None, self.skus[sku], quantity),), region=REGION, tier=Tier.SCHEDULED.value,
            slot_id=self.slot_id, coupon_ids=(self.coupon_id,) if coupons else (),
        ))

    async def held(self) -> tuple[int, str, int]:
        """What a checkout holds, seen from outside: units available, the coupon's state, places left."""
        [units] = await self.adapters.inventory.available(self.shop_id, [(self.skus["DIAPER-L54"], REGION)])
        [coupon] = await self.adapters.coupons.coupons_by_id(self.shop_id, [self.coupon_id], utcnow())
        slot = await self.adapters.delivery.slot(self.shop_id, self.slot_id)
        assert coupon is not None and slot is not None
        return units, coupon.state.value, slot.remaining


@pytest.fixture
async def world(adapters: Adapters) -> World:
    await load_demo(adapters)
    found = await adapters.shops.shop_for_key(hash_key("pk_demo_panda"))
    assert found is not None
    shop_id = found[0].id
    shopper = await adapters.shops.shopper_for_subject(shop_id, "dev:buyer")
    skus = {s.code: s.id for s in await adapters.goods.skus_by_code(shop_id, ["DIAPER-L54", "WIPES-80X6"]) if s}
    [welcome] = await adapters.coupons.templates_by_code(shop_id, ["WELCOME-20"])
    assert welcome is not None
    coupon = await adapters.coupons.claim(shop_id, welcome.id, shopper.id, utcnow(), Source.CLAIM)
    line = QuoteLine(skus["DIAPER-L54"], 15_900, 2, False)
    [options] = await adapters.delivery.quote(shop_id, [(REGION, [line])], utcnow())
    scheduled = next(q for q in options if q.tier is Tier.SCHEDULED)
    return World(adapters, shop_id, shopper.id, skus, coupon.id, scheduled.slots[0].id)


async def test_a_checkout_holds_stock_coupon_and_slot_and_makes_an_unpaid_order(world: World):
    # given
    before = await world.held()
    cart = await world.cart()
    # when
    order = await world.checkout().complete(cart, "key-1", CAP, 1089, "moments", utcnow())
    # then
    assert order.state is OrderState.OPEN and order.payment_status is PaymentStatus.UNPAID
    assert order.draft.cost.subtotal == 31_800 and order.draft.cost.discount == 2_000
    assert order.draft.cost.total == 31_800 - 2_000 + order.draft.cost.delivery_fee
    assert await world.held() == (before[0] - 2, "LOCKED", before[2] - 1)
    record = await world.adapters.delivery.record(world.shop_id, order.number)
    assert record is not None and record.slot is not None and record.slot.id == world.slot_id
    [closed] = await world.adapters.orders.carts_by_id(world.shop_id, [cart.id])
    assert closed is not None and closed.order_number == order.number


async def test_the_same_key_returns_the_same_order_and_another_cart_is_a_conflict(world: World):
    checkout = world.checkout()
    cart = await world.cart()
    first = await checkout.complete(cart, "key-1", CAP, None, None, utcnow())
    again = await checkout.complete(cart, "key-1", CAP, None, None, utcnow())
    assert again.number == first.number
    other = await world.cart(quantity=1, coupons=False)
    with pytest.raises(IdempotencyConflict):
        await checkout.complete(other, "key-1", CAP, None, None, utcnow())
    assert (await world.held())[0] == 500 - 2  # the conflict held nothing


async def test_order_numbers_are_unique_and_unguessable(world: World):
    numbers = []
    for n in range(3):
        cart = await world.cart(quantity=1, coupons=False)
        numbers.append((await world.checkout().complete(cart, f"k{n}", CAP, None, None, utcnow())).number)
    assert len(set(numbers)) == 3
    assert all(len(n) == 22 and n.isdigit() for n in numbers)
    # Nothing follows from one number to the next: they differ well beyond the date prefix.
    assert len({n[6:] for n in numbers}) == 3 and abs(int(numbers[0][6:]) - int(numbers[1][6:])) > 1000


STEPS = [
    ("inventory", "reserve"),
    ("coupons", "lock"),
    ("delivery", "book_slot"),
    ("delivery", "open_record"),
    ("orders", "confirm"),
]


@pytest.mark.parametrize(("port", "method"), STEPS[:-1])
async def test_a_step_that_fails_is_undone_at_once(world: World, port: str, method: str):
    # given
    before = await world.held()
    cart = await world.cart()
    # when
    with pytest.raises(RuntimeError):
        await world.checkout(port, method, RuntimeError("the database went away")).complete(
            cart, "key-1", CAP, None, None, utcnow()
        )
    # then: nothing held, no order, and the cart and key are free for a retry
    assert await world.held() == before
    assert (await world.adapters.orders.orders_page(world.shop_id, None, None, Window(10))).orders == []
    order = await world.checkout().complete(cart, "key-1", CAP, None, None, utcnow())
    assert order.state is OrderState.OPEN


async def test_an_error_after_the_order_is_confirmed_keeps_the_order(world: World):
    # given: the confirmation is written, then the caller hears an error
    before = await world.held()
    cart = await world.cart()
    with pytest.raises(RuntimeError):
        await world.checkout("orders", "confirm", RuntimeError("connection reset")).complete(
            cart, "key-1", CAP, None, None, utcnow()
        )
    # then: the order stands with its holds, and a retry with the key finds it
    page = await world.adapters.orders.orders_page(world.shop_id, None, None, Window(10))
    assert [o.state for o in page.orders] == [OrderState.OPEN]
    assert await world.held() == (before[0] - 2, "LOCKED", before[2] - 1)
    again = await world.checkout().complete(cart, "key-1", CAP, None, None, utcnow())
    assert again.number == page.orders[0].number


@pytest.mark.parametrize(("port", "method"), STEPS)
async def test_a_checkout_that_dies_at_a_step_is_undone_by_the_sweep(world: World, port: str, method: str):
    # given: a checkout dies right after a step did its work
    before = await world.held()
    cart = await world.cart()
    with pytest.raises(Crash):
        await world.checkout(port, method, Crash()).complete(cart, "key-1", CAP, None, None, utcnow())
    # when: the sweep runs once the checkout is stale
    report = await world.checkout().sweep(utcnow() + STALE_CHECKOUT + timedelta(seconds=1))
    # then
    if method == "confirm":  # it died after confirming: a real, unpaid order, left for the TTL
        assert report.failed == [] and (await world.held())[0] == before[0] - 2
        return
    assert len(report.failed) == 1 and report.released == report.failed
    assert await world.held() == before
    again = await world.checkout().sweep(utcnow() + STALE_CHECKOUT + timedelta(seconds=2))
    assert again.failed == [] and again.released == []
    assert await world.held() == before


async def test_a_dead_checkout_is_stale_after_the_configured_time(world: World):
    # given: a checkout that died after holding stock, with JIMU_STALE_CHECKOUT_SECONDS=30
    before = await world.held()
    cart = await world.cart()
    with pytest.raises(Crash):
        await world.checkout("inventory", "reserve", Crash()).complete(cart, "key-1", CAP, None, None, utcnow())
    sweeper = world.checkout(stale=timedelta(seconds=30))
    # then: left alone before 30 s, undone after
    assert (await sweeper.sweep(utcnow() + timedelta(seconds=20))).failed == []
    assert len((await sweeper.sweep(utcnow() + timedelta(seconds=31))).failed) == 1
    assert await world.held() == before


async def test_refusals_hold_nothing_and_name_the_problem(world: World):
    before = await world.held()
    cart = await world.cart(quantity=11)  # the purchase limit is 10
    with pytest.raises(CheckoutRefused) as refused:
        await world.checkout().complete(cart, "key-1", CAP, None, None, utcnow())
    assert [p.code for p in refused.value.problems] == ["PURCHASE_LIMIT_EXCEEDED"]
    assert await world.held() == before


async def test_cancelling_gives_everything_back_exactly_once(world: World):
    before = await world.held()
    checkout = world.checkout()
    order = await checkout.complete(await world.cart(), "key-1", CAP, None, None, utcnow())
    assert await checkout.cancel(order, utcnow())
    assert await world.held() == before
    assert not await checkout.cancel(order, utcnow())
    assert await world.held() == before
    [cancelled] = await world.adapters.orders.orders_by_number(world.shop_id, [order.number])
    assert cancelled is not None and cancelled.state is OrderState.CANCELLED and cancelled.released


async def test_the_sweep_cancels_unpaid_orders_after_the_ttl_once(world: World):
    before = await world.held()
    checkout = world.checkout(ttl=timedelta(seconds=60))
    order = await checkout.complete(await world.cart(), "key-1", CAP, None, None, utcnow())
    early = await checkout.sweep(utcnow())
    assert early.expired == [] and (await world.held())[0] == before[0] - 2
    late = await checkout.sweep(utcnow() + timedelta(seconds=61))
    assert late.expired == [order.number] and late.released == [order.number]
    assert await world.held() == before
    assert (await checkout.sweep(utcnow() + timedelta(seconds=62))).expired == []
    assert await world.held() == before


async def free_cart(world: World) -> tuple[Cart, Any]:
    """Wipes over the free-shipping threshold with a coupon worth all of them: nothing to pay."""
    a = world.adapters
    spec = TemplateSpec(code="ALL-FREE", title="all free", kind=CouponKind.AMOUNT_OFF, threshold=0, discount=10_000,
                        percent_off=None, scope=Scope.SHOP, sku_ids=(), category_id=None,
                        stacking_group=StackingGroup.PLATFORM, total_quantity=1, per_shopper_limit=1,
                        claim_starts_at=None, claim_ends_at=None, valid_days=1, valid_from=None, valid_until=None,
                        hidden=False)
    template = await a.coupons.create_template(world.shop_id, spec)
    free = await a.coupons.claim(world.shop_id, template.id, world.shopper_id, utcnow(), Source.CLAIM)
    cart = await a.orders.create_cart(world.shop_id, world.shopper_id)
    cart = await a.orders.save_cart(replace(cart, lines=(CartLine(None, world.skus["WIPES-80X6"], 2),),
                                            region=REGION, tier=Tier.STANDARD.value, coupon_ids=(free.id,)))
    return cart, free


async def test_a_fully_discounted_order_is_paid_at_once_and_never_expires(world: World):
    # given: wipes over the free-shipping threshold and a coupon worth all of them
    a = world.adapters
    cart, free = await free_cart(world)
    checkout = world.checkout(ttl=timedelta(seconds=1))
    # when
    order = await checkout.complete(cart, "key-1", CAP, None, None, utcnow())
    # then
    assert order.draft.cost.total == 0 and order.payment_status is PaymentStatus.PAID
    [coupon] = await a.coupons.coupons_by_id(world.shop_id, [free.id], utcnow())
    assert coupon is not None and coupon.state is CouponState.REDEEMED
    assert (await checkout.sweep(utcnow() + timedelta(hours=1))).expired == []
    reservation = await a.inventory.reservation_by_ref(world.shop_id, order.number)
    assert reservation is not None and reservation.state.value == "COMMITTED"


async def test_a_closed_cart_cannot_be_checked_out_under_another_key(world: World):
    cart = await world.cart()
    await world.checkout().complete(cart, "key-1", CAP, None, None, utcnow())
    [closed] = await world.adapters.orders.carts_by_id(world.shop_id, [cart.id])
    assert closed is not None
    with pytest.raises((CheckoutRefused, CartClosed)):
        await world.checkout().complete(closed, "key-2", CAP, None, None, utcnow())
    assert (await world.held())[0] == 500 - 2



class Down:
    """A shop's own stock system that does not answer while ``down``: its calls do nothing and raise
    (but the expiry of orphans, which is jimu's own, as adapters/remote/routed.py has it)."""

    def __init__(self, inner: Any) -> None:
        self._inner, self.down = inner, True

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.down and name != "expire_due":
                raise RemoteUnavailable("inventory", "timed out")
            return await attr(*args, **kwargs)

        return call


def with_stock(world: World, inventory: Any, ttl: timedelta = timedelta(minutes=30)) -> Checkout:
    a = world.adapters
    return Checkout(a.orders, inventory, a.coupons, a.delivery, CartPricer(a.goods, a.inventory, a.delivery, a.coupons),
                    ttl)


async def test_a_cancel_while_the_stock_system_is_down_stands_and_the_sweep_gives_the_stock_back(world: World):
    # given: an order, then the stock system goes down
    before = await world.held()
    down = Down(world.adapters.inventory)
    down.down = False
    checkout = with_stock(world, down)
    order = await checkout.complete(await world.cart(), "key-1", CAP, None, None, utcnow())
    down.down = True
    # when: the shopper cancels
    assert await checkout.cancel(order, utcnow())
    # then: cancelled, the coupon and slot given back at once, the stock when the system answers again
    [cancelled] = await world.adapters.orders.orders_by_number(world.shop_id, [order.number])
    assert cancelled is not None and cancelled.state is OrderState.CANCELLED and not cancelled.released
    assert await world.held() == (before[0] - 2, "AVAILABLE", before[2])
    assert (await checkout.sweep(utcnow())).released == []
    down.down = False
    assert (await checkout.sweep(utcnow())).released == [order.number]
    assert await world.held() == before


async def test_orders_that_cannot_be_given_back_never_hold_up_those_behind_them(world: World):
    # given: three cancelled orders whose stock cannot be given back (an outage, a bug), then one that can
    a = world.adapters
    checkout = world.checkout()
    orders = [await checkout.complete(await world.cart(quantity=1, coupons=False), f"k{n}", CAP, None, None, utcnow())
              for n in range(4)]
    for order in orders:
        await a.orders.cancel(world.shop_id, order.number, utcnow())  # each give-back left undone
    stuck = {o.number: error for o, error in zip(orders, [RemoteUnavailable("inventory", "timed out"),
                                                          RuntimeError("a bug"), RemoteUnavailable("inventory", "")])}

    class Stuck:
        def __getattr__(self, name: str) -> Any:
            return getattr(a.inventory, name)

        async def release_ref(self, shop_id: int, ref: str) -> Any:
            if ref in stuck:
                raise stuck[ref]
            return await a.inventory.release_ref(shop_id, ref)

    sweeper = with_stock(world, Stuck())
    # when: the sweep goes two orders at a time
    reports = [(await sweeper.sweep(utcnow(), limit=2)).released for _ in range(3)]
    # then: the second page reaches the order behind the stuck ones, and the third starts again
    assert reports == [[], [orders[3].number], []]
    stuck.clear()
    assert (await sweeper.sweep(utcnow(), limit=2)).released == [o.number for o in orders[:2]]
    assert (await sweeper.sweep(utcnow(), limit=2)).released == [orders[2].number]


async def test_a_fully_discounted_order_whose_stock_system_is_down_is_refused_holding_nothing(world: World):
    a = world.adapters
    cart, free = await free_cart(world)
    [units] = await a.inventory.available(world.shop_id, [(world.skus["WIPES-80X6"], REGION)])
    # when: the reserve is taken, then the commit finds the system gone
    with pytest.raises(CheckoutRefused) as refused:
        await with_stock(world, Cut(a.inventory, "commit", RemoteUnavailable("inventory", "timed out"))).complete(
            cart, "key-1", CAP, None, None, utcnow())
    # then: a refusal naming the system, and nothing held
    assert [p.code for p in refused.value.problems] == ["SERVICE_UNAVAILABLE"]
    assert await a.inventory.available(world.shop_id, [(world.skus["WIPES-80X6"], REGION)]) == [units]
    [coupon] = await a.coupons.coupons_by_id(world.shop_id, [free.id], utcnow())
    assert coupon is not None and coupon.state is CouponState.AVAILABLE
