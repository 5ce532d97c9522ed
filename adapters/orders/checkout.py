"""Checkout, cancellation and the sweep: one order across inventory, coupons and delivery.

Checkout is a saga with its log written first. The PENDING order row names
everything that may be held for it (the reservation, coupons and slot all use
the order number as their ref), then each adapter holds its part, then the
order is confirmed. If a step refuses, the order is failed and every part is
given back; each give-back is a conditional move that happens once, so giving
back twice, or giving back what was never taken, changes nothing. If the
process dies on the way, the sweep finds the PENDING order when it is stale,
fails it and gives back the same way.

Errors::

    CheckoutRefused   the cart cannot be checked out; its problems say why
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.coupons.port import Coupons, NotUsable
from adapters.delivery.port import Delivery, DeliveryError, SlotFull, Tier
from adapters.inventory.port import (
    Inventory,
    OutOfStock,
    PurchaseLimitExceeded,
    WantedLine,
)
from adapters.orders import rules
from adapters.orders.port import (
    Cart,
    IdempotencyConflict,
    Order,
    OrderDraft,
    Orders,
    OrderState,
    PaymentPlan,
    PaymentStatus,
)
from adapters.orders.pricing import CartPricer, Priced
from adapters.orders.rules import Problem
from adapters.unavailable import Unavailable

log = logging.getLogger("jimu.checkout")

# A checkout still PENDING after this long died on the way: the sweep undoes it.
STALE_CHECKOUT = timedelta(minutes=2)  # the default of JIMU_STALE_CHECKOUT_SECONDS
# Reservations are expired by the order sweep; inventory's own sweep is a backstop for orphans.
ORPHAN_GRACE = timedelta(minutes=5)


class CheckoutRefused(Exception):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class SweepReport:
    expired: list[str]
    failed: list[str]
    released: list[str]


class Checkout:
    def __init__(
        self,
        orders: Orders,
        inventory: Inventory,
        coupons: Coupons,
        delivery: Delivery,
        pricer: CartPricer,
        reservation_ttl: timedelta,
        stale_checkout: timedelta = STALE_CHECKOUT,
    ) -> None:
        self.orders = orders
        self.inventory = inventory
        self.coupons = coupons
        self.delivery = delivery
        self.pricer = pricer
        self.reservation_ttl = reservation_ttl
        # A PENDING order older than this is a checkout that died on the way: the sweep undoes it.
        self.stale_checkout = stale_checkout
        # Where the sweep's next page of give-backs starts: orders that cannot be given back yet (the
        # shop's own system is down) are passed over, so they never hold up the orders behind them.
        self._release_after = 0

    async def complete(
        self, cart: Cart, key: str, cap: int, scene: int | None, channel: str | None, now: datetime
    ) -> Order:
        """The order for this cart and key: made now, or the one made before with the same key.

        Raises CheckoutRefused with every problem of the cart, or with the step
        that refused; IdempotencyConflict or CartClosed from the order store.
        """
        existing = await self.orders.order_by_key(cart.shop_id, cart.shopper_id, key)
        if existing is not None:
            return await self._settled(existing, cart)
        try:
            priced = await self.pricer.price(cart, cap, now)
        except Unavailable as exc:
            raise CheckoutRefused([_unavailable(exc)]) from exc
        if priced.problems:
            raise CheckoutRefused(priced.problems)
        begun = await self.orders.begin(self._draft(priced, key, scene, channel, now))
        if not begun.created:
            return await self._settled(begun.order, cart)
        order = begun.order
        try:
            payment_status = await self._hold(order, priced, now)
            if not await self.orders.confirm(order.shop_id, order.number, payment_status):
                raise CheckoutRefused([Problem("INVALID_STATE", "the checkout took too long: try again")])
        except Exception:  # refused or broken: nothing stays held
            await self._undo(order)
            raise
        [confirmed] = await self.orders.orders_by_number(order.shop_id, [order.number])
        assert confirmed is not None
        return confirmed

    async def cancel(self, order: Order, now: datetime) -> bool:
        """OPEN and unpaid -> CANCELLED, giving back what it held; False when it cannot be cancelled."""
        if not await self.orders.cancel(order.shop_id, order.number, now):
            return False
        await follow_up(self.release_holds(order), f"giving back {order.number}")
        return True

    async def release_holds(self, order: Order) -> None:
        """Give back the order's coupons, slot and stock; safe to repeat. The stock comes last: it may
        be held by the shop's own system, and while that does not answer the rest is given back."""
        await self.coupons.release(order.shop_id, order.number)
        await self.delivery.release_slot(order.shop_id, order.number)
        await self.inventory.release_ref(order.shop_id, order.number)  # a reserve still on its way included
        await self.orders.mark_released(order.shop_id, order.number)

    async def sweep(self, now: datetime, limit: int = 100) -> SweepReport:
        """Expire unpaid orders past their TTL, undo dead checkouts, finish any give-back left undone:
        one page of those per sweep, the next page the next time round."""
        expired = await self.orders.expire_due(now, limit)
        failed = await self.orders.fail_stale(now - self.stale_checkout, limit)
        released = []
        page = await self.orders.unreleased(limit, self._release_after)
        self._release_after = page[-1].id if len(page) == limit else 0
        for order in page:
            if await follow_up(self.release_holds(order), f"giving back {order.number}"):
                released.append(order.number)
        await self.inventory.expire_due(now - ORPHAN_GRACE, limit)
        return SweepReport([o.number for o in expired], [o.number for o in failed], released)

    def _draft(self, priced: Priced, key: str, scene: int | None, channel: str | None, now: datetime) -> OrderDraft:
        cart = priced.cart
        assert cart.region is not None and cart.tier is not None, "a cart without problems has a delivery"
        return OrderDraft(
            shop_id=cart.shop_id, shopper_id=cart.shopper_id, cart_id=cart.id, idempotency_key=key,
            number=rules.new_order_number(now), lines=priced.lines, cost=priced.cost, plan=cart.plan,
            balance_method=cart.balance_method if cart.plan is PaymentPlan.DEPOSIT else None,
            coupon_ids=tuple(a.coupon_id for a in priced.applied), region=cart.region, tier=cart.tier,
            slot_id=priced.slot.id if priced.slot else None, scene=scene, channel=channel,
            created_at=now, expires_at=now + self.reservation_ttl,
            balance_due_hours=min((s.deposit_policy.balance_due_hours for s in priced.skus.values() if s.deposit_policy),
                                  default=None) if cart.plan is PaymentPlan.DEPOSIT else None,
        )

    async def _hold(self, order: Order, priced: Priced, now: datetime) -> PaymentStatus:
        draft, shop_id, number = order.draft, order.shop_id, order.number
        wanted = [WantedLine(line.sku_id, line.quantity, priced.skus[line.sku_id].purchase_limit) for line in draft.lines]
        free = draft.plan is PaymentPlan.FULL and draft.cost.due_now == 0
        try:
            reservation = await self.inventory.reserve(
                shop_id, number, draft.shopper_id, draft.region, wanted, draft.expires_at
            )
            if draft.coupon_ids:
                await self.coupons.lock(shop_id, draft.shopper_id, draft.coupon_ids, number, now)
            if draft.slot_id is not None:
                await self.delivery.book_slot(shop_id, draft.slot_id, number, now)
            if free:  # nothing to pay: it is paid now, so the stock is sold
                await self.inventory.commit(shop_id, reservation.id)
        except OutOfStock as exc:
            raise CheckoutRefused([_named("OUT_OF_STOCK", "not enough stock left for", exc.sku_ids, priced)]) from exc
        except PurchaseLimitExceeded as exc:
            raise CheckoutRefused([_named("PURCHASE_LIMIT_EXCEEDED", "purchase limit reached for", exc.sku_ids,
                                          priced)]) from exc
        except NotUsable as exc:
            raise CheckoutRefused([Problem(exc.code, str(exc))]) from exc
        except SlotFull as exc:
            raise CheckoutRefused([Problem("SLOT_FULL", "the chosen slot is full: choose another")]) from exc
        except DeliveryError as exc:
            raise CheckoutRefused([Problem("DELIVERY_UNAVAILABLE", str(exc))]) from exc
        except Unavailable as exc:  # what it may have held is given back (_undo, else the sweep)
            raise CheckoutRefused([_unavailable(exc)]) from exc
        quote = priced.chosen
        assert quote is not None
        await self.delivery.open_record(shop_id, number, Tier(draft.tier), draft.region, draft.cost.delivery_fee,
                                        draft.slot_id, quote.features, now)
        if free:  # and the coupons used
            await self.coupons.redeem(shop_id, number)
            return PaymentStatus.PAID
        return PaymentStatus.UNPAID

    async def _undo(self, order: Order) -> None:
        try:
            if not await self.orders.fail(order.shop_id, order.number):
                [confirmed] = await self.orders.orders_by_number(order.shop_id, [order.number])
                if confirmed is not None:  # it was confirmed after all: a real order keeps what it holds
                    return
            await self.release_holds(order)
        except Unavailable as exc:  # the sweep finishes it; the caller hears of the first failure
            log.warning("undoing checkout %s waits for the sweep: %s", order.number, exc)
        except Exception:
            log.exception("undoing checkout %s failed; the sweep will finish it", order.number)

    async def _settled(self, order: Order, cart: Cart) -> Order:
        """The order a retry with the same key gets: once its first checkout has finished."""
        if order.draft.cart_id != cart.id:
            raise IdempotencyConflict("this idempotency key was used for another cart")
        for _ in range(100):  # a retry racing the first call waits for it, up to ~10 s
            if order.state is not OrderState.PENDING:
                return order
            await asyncio.sleep(0.1)
            found = await self.orders.order_by_key(cart.shop_id, cart.shopper_id, order.draft.idempotency_key)
            if found is None:  # the first call failed and freed the key
                raise CheckoutRefused([Problem("INVALID_STATE", "the checkout with this key failed: try again")])
            order = found
        raise CheckoutRefused([Problem("INVALID_STATE", "the checkout with this key is still running: try again")])


async def follow_up(step: Awaitable[None], what: str) -> bool:
    """Run a step that follows a change already committed (give back, commit); False when it failed.
    The change stands and the sweep finishes the step, so its failure is logged, not raised: the
    caller's answer (a cancelled order, a provider's notice taken) is true either way."""
    try:
        await step
    except Unavailable as exc:
        log.warning("%s waits for the sweep: %s", what, exc)
        return False
    except Exception:
        log.exception("%s failed; the sweep will try again", what)
        return False
    return True


def _unavailable(exc: Unavailable) -> Problem:
    return Problem("SERVICE_UNAVAILABLE", f"the shop's {exc.capability} system did not answer: no order was "
                                          "made and what it held is given back; try again in a moment")


def _named(code: str, message: str, sku_ids: Sequence[int], priced: Priced) -> Problem:
    return Problem(code, f"{message} {', '.join(priced.skus[s].code for s in sku_ids if s in priced.skus)}")
