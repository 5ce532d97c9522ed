"""Pricing a cart from the adapters as they are now: goods, stock, delivery and coupons.

Nothing about a cart's cost is stored: every read prices it again, so a price
change, a coupon that expired or a slot that filled up shows at once, as a
cost and as the problems that would stop its checkout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adapters.coupons.port import Coupon, Coupons, CouponState, NotUsable, Template
from adapters.coupons.rules import Applied, PricedLine, apply, shown_state
from adapters.delivery.port import Delivery, Quote, QuoteLine, Slot, Tier
from adapters.goods.port import GoodsCatalog, Product, Sku
from adapters.inventory.port import Inventory
from adapters.orders import rules
from adapters.orders.port import Cart, CartLine, Cost, OrderLine
from adapters.orders.rules import Problem

SLOT_TIERS = frozenset({Tier.SCHEDULED.value, Tier.PREMIUM.value})


@dataclass(frozen=True, slots=True)
class Priced:
    cart: Cart
    skus: dict[int, Sku]
    lines: tuple[OrderLine, ...]
    cost: Cost
    options: list[Quote]
    chosen: Quote | None
    slot: Slot | None
    coupons: list[Coupon]
    applied: list[Applied]
    problems: list[Problem]


class CartPricer:
    def __init__(self, goods: GoodsCatalog, inventory: Inventory, delivery: Delivery, coupons: Coupons) -> None:
        self._goods = goods
        self._inventory = inventory
        self._delivery = delivery
        self._coupons = coupons

    async def price(self, cart: Cart, cap: int, now: datetime) -> Priced:
        shop_id = cart.shop_id
        found = [s for s in await self._goods.skus_by_id(shop_id, [line.sku_id for line in cart.lines]) if s]
        held = await self._goods.products_by_id(shop_id, list(dict.fromkeys(s.product_id for s in found)))
        products = {p.id: p for p in held if p is not None and p.archived_at is None}  # archived: not sold
        skus = {sku.id: sku for sku in found if sku.product_id in products}
        lines = [line for line in cart.lines if line.sku_id in skus]
        problems: list[Problem] = []
        if cart.order_number is not None:
            problems.append(Problem("INVALID_STATE", f"the cart is checked out as order {cart.order_number}"))
        if len(lines) < len(cart.lines):
            problems.append(Problem("NOT_FOUND", "an item in the cart is no longer sold: remove it"))
        if not lines:
            problems.append(Problem("INVALID", "the cart is empty"))
        problems += [p for line in lines if (p := rules.limit_problem(skus[line.sku_id], line.quantity))]
        problems += await self._stock_problems(cart, lines, skus)
        options, chosen, slot, delivery_problems = await self._delivery_choice(cart, lines, skus, now)
        problems += delivery_problems
        coupons, applied, coupon_problems = await self._coupons_applied(cart, lines, skus, products, now)
        problems += coupon_problems
        order_lines = rules.order_lines(lines, skus, products, cart.plan)
        cost = rules.cost(order_lines, sum(a.discount for a in applied), chosen.fee if chosen else 0, cart.plan)
        problems += rules.plan_problems(cart, skus, cost.due_now, cap)
        return Priced(cart, skus, order_lines, cost, options, chosen, slot, coupons, applied, problems)

    async def _stock_problems(self, cart: Cart, lines: list[CartLine], skus: dict[int, Sku]) -> list[Problem]:
        if cart.region is None or not lines:
            return []
        available = await self._inventory.available(cart.shop_id, [(line.sku_id, cart.region) for line in lines])
        return [
            Problem("OUT_OF_STOCK", f"{skus[line.sku_id].code}: {units} left for {cart.region}")
            for line, units in zip(lines, available, strict=True)
            if units < line.quantity
        ]

    async def _delivery_choice(
        self, cart: Cart, lines: list[CartLine], skus: dict[int, Sku], now: datetime
    ) -> tuple[list[Quote], Quote | None, Slot | None, list[Problem]]:
        choose = Problem("DELIVERY_UNAVAILABLE", "choose a delivery (cartDeliverySet)")
        if cart.region is None:
            return [], None, None, [choose]
        if not lines:
            return [], None, None, []
        quote_lines = [
            QuoteLine(line.sku_id, skus[line.sku_id].price, line.quantity, skus[line.sku_id].premium_delivery_eligible)
            for line in lines
        ]
        [options] = await self._delivery.quote(cart.shop_id, [(cart.region, quote_lines)], now)
        if cart.tier is None:
            return options, None, None, [choose]
        chosen = next((q for q in options if q.tier.value == cart.tier), None)
        if chosen is None:
            return options, None, None, [Problem("DELIVERY_UNAVAILABLE",
                                                 f"{cart.tier} does not deliver these goods to {cart.region}",
                                                 ("delivery", "tier"))]
        if cart.tier not in SLOT_TIERS:
            return options, chosen, None, []
        if cart.slot_id is None:  # a tier chosen first, its slots listed in deliveryOptions to choose from
            return options, chosen, None, [Problem("DELIVERY_UNAVAILABLE", f"choose a slot for {cart.tier} delivery")]
        slot = next((s for s in chosen.slots if s.id == cart.slot_id), None)
        if slot is None:
            return options, chosen, None, [Problem("DELIVERY_UNAVAILABLE", f"{cart.tier} needs a slot that is still offered",
                                                   ("delivery", "slotId"))]
        if slot.remaining == 0:
            return options, chosen, slot, [Problem("SLOT_FULL", "the chosen slot is full: choose another", ("delivery", "slotId"))]
        return options, chosen, slot, []

    async def _coupons_applied(
        self, cart: Cart, lines: list[CartLine], skus: dict[int, Sku], products: dict[int, Product], now: datetime
    ) -> tuple[list[Coupon], list[Applied], list[Problem]]:
        if not cart.coupon_ids:
            return [], [], []
        held = [c for c in await self._coupons.coupons_by_id(cart.shop_id, cart.coupon_ids, now)
                if c is not None and c.shopper_id == cart.shopper_id]
        templates = await self._coupons.templates_by_id(cart.shop_id, [c.template_id for c in held])
        priced = await self._priced_lines(cart.shop_id, lines, skus, products)
        accepted: list[tuple[Coupon, Template]] = []
        applied: list[Applied] = []
        problems = []
        for coupon, template in zip(held, templates, strict=True):
            assert template is not None, "a coupon's template is never deleted"
            at = ("couponIds", str(cart.coupon_ids.index(coupon.id)))
            state = shown_state(coupon, now)
            if state is not CouponState.AVAILABLE:
                code = "COUPON_EXPIRED" if state is CouponState.EXPIRED else "INVALID_STATE"
                problems.append(Problem(code, f"{template.spec.title} is {state.value.lower()}", at))
                continue
            try:
                applied = apply([*accepted, (coupon, template)], priced, now)
            except NotUsable as exc:
                problems.append(Problem(exc.code, str(exc), at))
                continue
            accepted.append((coupon, template))
        return held, applied, problems

    async def _priced_lines(self, shop_id: int, lines: list[CartLine], skus: dict[int, Sku],
                            products: dict[int, Product]) -> list[PricedLine]:
        parents = {c.id: c.parent_id for c in await self._goods.categories(shop_id)}

        def with_ancestors(category_id: int | None) -> frozenset[int]:
            found: set[int] = set()
            while category_id is not None and category_id not in found:
                found.add(category_id)
                category_id = parents.get(category_id)
            return frozenset(found)

        return [
            PricedLine(line.sku_id, with_ancestors(products[skus[line.sku_id].product_id].category_id),
                       skus[line.sku_id].price * line.quantity)
            for line in lines
        ]
