"""Carts: reading one, and every edit of it, checked line by line.

An edit is all or nothing: when any input is wrong the cart is left as it was
and every fault comes back as a userError naming its input field.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

import strawberry

from adapters.db import utcnow
from adapters.goods.rules import region_problem
from adapters.orders import rules
from adapters.orders.port import BalanceMethod as PortBalanceMethod
from adapters.orders.port import Cart as CartRecord
from adapters.orders.port import CartChanged, CartClosed, CartLine
from adapters.orders.port import PaymentPlan as PortPaymentPlan
from adapters.orders.pricing import SLOT_TIERS
from adapters.unavailable import Unavailable
from resolvers.on_sale import skus_on_sale
from resolvers.shopper_auth import signed_in
from resolvers.user_errors import user_error
from schema.common import UserError, parse_cart_gid, parse_gid
from schema.goods import BalanceMethod
from schema.orders import (
    Cart,
    CartDeliveryInput,
    CartLineInput,
    CartLineUpdateInput,
    CartPayload,
)
from schema.payments import PaymentPlan

Edit = Callable[[CartRecord], Awaitable[tuple[CartRecord, list[UserError]]]]
SAVE_ATTEMPTS = 3


async def load_cart(info: strawberry.Info, cart_id: str) -> CartRecord | None:
    """The signed-in shopper's cart; None when there is none, and None for another shopper's:
    telling the two apart would tell another shopper which carts exist."""
    shop, shopper_id = await signed_in(info)
    return await own_cart(info, shop.id, shopper_id, cart_id)


async def own_cart(info: strawberry.Info, shop_id: int, shopper_id: int, cart_id: str) -> CartRecord | None:
    token = parse_cart_gid(cart_id)
    if token is None:
        return None
    [cart] = await info.context.adapters.orders.carts_by_token(shop_id, [token])
    return cart if cart is not None and cart.shopper_id == shopper_id else None


async def priced(info: strawberry.Info, cart: CartRecord) -> Cart:
    shop = await info.context.shop()
    return Cart.of(await info.context.checkout.pricer.price(cart, shop.online_payment_cap, utcnow()))


def unless_unavailable(mutation: Callable[..., Awaitable[CartPayload]]) -> Callable[..., Awaitable[CartPayload]]:
    """A cart edit that needed the shop's own goods or stock system while it did not answer is
    refused with a SERVICE_UNAVAILABLE userError, the cart left as it was: what the edit checks
    (limits, stock, the delivery and payment plan) is read before anything is saved."""

    @functools.wraps(mutation)
    async def refusing(*args: Any, **kwargs: Any) -> CartPayload:
        try:
            return await mutation(*args, **kwargs)
        except Unavailable as exc:
            return CartPayload(user_errors=[user_error(
                "SERVICE_UNAVAILABLE", None, f"the shop's {exc.capability} system did not answer: the cart was "
                                             "not changed; try again in a moment")])

    return refusing


@strawberry.type
class CartQuery:
    @strawberry.field
    async def cart(self, info: strawberry.Info, id: strawberry.ID) -> Cart | None:
        found = await load_cart(info, str(id))
        return await priced(info, found) if found else None


@strawberry.type
class CartMutation:
    @strawberry.mutation
    @unless_unavailable
    async def cart_create(self, info: strawberry.Info, lines: list[CartLineInput] | None = None) -> CartPayload:
        shop, shopper_id = await signed_in(info)
        empty = CartRecord(id=0, shop_id=shop.id, shopper_id=shopper_id, version=0, token="")  # not stored: to check lines against
        additions, errors = await _additions(info, empty, lines or [])
        if errors:
            return CartPayload(user_errors=errors)
        cart = await info.context.adapters.orders.create_cart(shop.id, shopper_id)
        if additions:
            cart = await info.context.adapters.orders.save_cart(replace(cart, lines=rules.add_lines(cart, additions)))
        return _priced_later(info, cart)

    @strawberry.mutation
    @unless_unavailable
    async def cart_lines_add(self, info: strawberry.Info, cart_id: strawberry.ID, lines: list[CartLineInput]) -> CartPayload:
        async def edit(cart: CartRecord) -> tuple[CartRecord, list[UserError]]:
            additions, errors = await _additions(info, cart, lines)
            return replace(cart, lines=rules.add_lines(cart, additions)), errors

        return await _edit(info, str(cart_id), edit)

    @strawberry.mutation
    @unless_unavailable
    async def cart_lines_update(
        self, info: strawberry.Info, cart_id: strawberry.ID, lines: list[CartLineUpdateInput]
    ) -> CartPayload:
        async def edit(cart: CartRecord) -> tuple[CartRecord, list[UserError]]:
            errors: list[UserError] = []
            quantities: dict[int, tuple[int, int]] = {}
            for n, line in enumerate(lines):
                line_id = _line_id(cart, str(line.line_id))
                if line_id is None:
                    errors.append(user_error("NOT_FOUND", ["lines", str(n), "lineId"], "no such line in this cart"))
                errors += _quantity_errors(line.quantity, ["lines", str(n), "quantity"])
                if line_id is not None:
                    quantities[line_id] = (line.quantity, n)
            updated = tuple(replace(ln, quantity=quantities[ln.id][0]) if ln.id in quantities else ln for ln in cart.lines)
            where = {ln.sku_id: ["lines", str(quantities[ln.id][1]), "quantity"] for ln in updated if ln.id in quantities}
            errors += await _limit_errors(info, cart, updated, where)
            return replace(cart, lines=updated), errors

        return await _edit(info, str(cart_id), edit)

    @strawberry.mutation
    @unless_unavailable
    async def cart_lines_remove(
        self, info: strawberry.Info, cart_id: strawberry.ID, line_ids: list[strawberry.ID]
    ) -> CartPayload:
        async def edit(cart: CartRecord) -> tuple[CartRecord, list[UserError]]:
            ids = [_line_id(cart, str(line_id)) for line_id in line_ids]
            errors = [user_error("NOT_FOUND", ["lineIds", str(n)], "no such line in this cart")
                      for n, line_id in enumerate(ids) if line_id is None]
            return replace(cart, lines=tuple(ln for ln in cart.lines if ln.id not in ids)), errors

        return await _edit(info, str(cart_id), edit)

    @strawberry.mutation
    @unless_unavailable
    async def cart_delivery_set(
        self, info: strawberry.Info, cart_id: strawberry.ID, delivery: CartDeliveryInput
    ) -> CartPayload:
        async def edit(cart: CartRecord) -> tuple[CartRecord, list[UserError]]:
            errors = []
            if (problem := region_problem(delivery.region)) is not None:
                errors.append(user_error("INVALID", ["delivery", "region"], problem))
            slot_id = None
            if delivery.slot_id is not None:
                parsed = parse_gid(str(delivery.slot_id))
                if parsed is None or parsed[0] != "DeliverySlot":
                    errors.append(user_error("INVALID", ["delivery", "slotId"], "not a delivery slot id"))
                else:
                    slot_id = parsed[1]
            tier = delivery.tier.value
            if tier not in SLOT_TIERS and delivery.slot_id is not None:
                errors.append(user_error("INVALID", ["delivery", "slotId"], f"{tier} delivery takes no slot"))
            changed = replace(cart, region=delivery.region, tier=tier, slot_id=slot_id)
            if not errors:
                errors = await _problems_at(info, changed, "delivery")
            return changed, errors

        return await _edit(info, str(cart_id), edit)

    @strawberry.mutation
    @unless_unavailable
    async def cart_coupons_set(
        self, info: strawberry.Info, cart_id: strawberry.ID, coupon_ids: list[strawberry.ID]
    ) -> CartPayload:
        async def edit(cart: CartRecord) -> tuple[CartRecord, list[UserError]]:
            errors: list[UserError] = []
            at: dict[int, int] = {}  # coupon id -> its place in the input
            for n, raw in enumerate(coupon_ids):
                parsed = parse_gid(str(raw))
                if parsed is None or parsed[0] != "Coupon":
                    errors.append(user_error("INVALID", ["couponIds", str(n)], "not a coupon id"))
                elif parsed[1] in at:
                    errors.append(user_error("INVALID", ["couponIds", str(n)], "the same coupon twice"))
                else:
                    at[parsed[1]] = n
            held = await info.context.adapters.coupons.coupons_by_id(cart.shop_id, list(at), utcnow())
            for n, coupon in zip(at.values(), held, strict=True):
                if coupon is None or coupon.shopper_id != cart.shopper_id:
                    errors.append(user_error("NOT_FOUND", ["couponIds", str(n)], "you hold no such coupon"))
            changed = replace(cart, coupon_ids=tuple(at))
            if not errors:
                errors = await _problems_at(info, changed, "couponIds")
            return changed, errors

        return await _edit(info, str(cart_id), edit)

    @strawberry.mutation
    @unless_unavailable
    async def cart_payment_plan_set(
        self, info: strawberry.Info, cart_id: strawberry.ID, plan: PaymentPlan, balance_method: BalanceMethod | None = None
    ) -> CartPayload:
        async def edit(cart: CartRecord) -> tuple[CartRecord, list[UserError]]:
            if plan is PaymentPlan.FULL and balance_method is not None:
                return cart, [user_error("INVALID", ["balanceMethod"], "a FULL plan has no balance to pay")]
            changed = replace(cart, plan=PortPaymentPlan(plan.value),
                              balance_method=PortBalanceMethod(balance_method.value) if balance_method else None)
            return changed, await _problems_at(info, changed, "plan", "balanceMethod")

        return await _edit(info, str(cart_id), edit)


async def _edit(info: strawberry.Info, cart_id: str, edit: Edit) -> CartPayload:
    """Load, change and save the cart; a save that raced another edit is made again from the new cart."""
    for _ in range(SAVE_ATTEMPTS):
        cart = await load_cart(info, cart_id)
        if cart is None:
            return CartPayload(user_errors=[user_error("NOT_FOUND", ["cartId"], "no such cart")])
        if cart.order_number is not None:
            return CartPayload(pricing=_pricing(info, cart),
                               user_errors=[user_error("INVALID_STATE", ["cartId"], str(CartClosed(cart.order_number)))])
        changed, errors = await edit(cart)
        if errors:
            return CartPayload(pricing=_pricing(info, cart), user_errors=errors)
        try:
            saved = await info.context.adapters.orders.save_cart(changed)
        except CartChanged:
            continue
        except CartClosed as exc:
            return CartPayload(user_errors=[user_error("INVALID_STATE", ["cartId"], str(exc))])
        return _priced_later(info, saved)
    return CartPayload(user_errors=[user_error("INVALID_STATE", ["cartId"], "the cart kept changing: try again")])


def _pricing(info: strawberry.Info, cart: CartRecord) -> Callable[[], Awaitable[Cart]]:
    return lambda: priced(info, cart)


def _priced_later(info: strawberry.Info, cart: CartRecord) -> CartPayload:
    return CartPayload(pricing=_pricing(info, cart))


async def _additions(
    info: strawberry.Info, cart: CartRecord, lines: Sequence[CartLineInput]
) -> tuple[list[tuple[int, int]], list[UserError]]:
    errors: list[UserError] = []
    if len(lines) > rules.MAX_LINES:
        return [], [user_error("INVALID", ["lines"], f"at most {rules.MAX_LINES} lines at once")]
    skus = await skus_on_sale(info, cart.shop_id,
                              await info.context.adapters.goods.skus_by_code(cart.shop_id, [ln.sku_code for ln in lines]))
    additions, where = [], {}
    for n, (line, sku) in enumerate(zip(lines, skus, strict=True)):
        errors += _quantity_errors(line.quantity, ["lines", str(n), "quantity"])
        if sku is None:
            errors.append(user_error("NOT_FOUND", ["lines", str(n), "skuCode"], f"no SKU {line.sku_code!r} in this shop"))
        elif 1 <= line.quantity <= rules.MAX_QUANTITY:
            additions.append((sku.id, line.quantity))
            where[sku.id] = ["lines", str(n), "quantity"]
    merged = rules.add_lines(cart, additions)
    if len(merged) > rules.MAX_LINES:
        errors.append(user_error("INVALID", ["lines"], f"a cart holds at most {rules.MAX_LINES} lines"))
    errors += await _limit_errors(info, cart, merged, where)
    return additions, errors


def _quantity_errors(quantity: int, field: list[str]) -> list[UserError]:
    if quantity <= 0:
        return [user_error("INVALID", field, "quantity must be at least 1")]
    if quantity > rules.MAX_QUANTITY:
        return [user_error("INVALID", field, f"quantity must be at most {rules.MAX_QUANTITY}")]
    return []


async def _limit_errors(
    info: strawberry.Info, cart: CartRecord, lines: Sequence[CartLine], where: dict[int, list[str]]
) -> list[UserError]:
    """PURCHASE_LIMIT_EXCEEDED for each line the edit took over its SKU's limit (or the cart's size)."""
    touched = [line for line in lines if line.sku_id in where]
    skus = await info.context.adapters.goods.skus_by_id(cart.shop_id, [line.sku_id for line in touched])
    errors = []
    for line, sku in zip(touched, skus, strict=True):
        if line.quantity > rules.MAX_QUANTITY:
            errors.append(user_error("INVALID", where[line.sku_id], f"a line holds at most {rules.MAX_QUANTITY}"))
        elif sku is not None and (problem := rules.limit_problem(sku, line.quantity)):
            errors.append(user_error(problem.code, where[line.sku_id], problem.message))
    return errors


async def _problems_at(info: strawberry.Info, cart: CartRecord, *fields: str) -> list[UserError]:
    """The cart's problems with the input this edit sets, as userErrors."""
    shop = await info.context.shop()
    found = await info.context.checkout.pricer.price(cart, shop.online_payment_cap, utcnow())
    return [user_error(p.code, list(p.field), p.message) for p in found.problems if p.field and p.field[0] in fields]


def _line_id(cart: CartRecord, raw: str) -> int | None:
    parsed = parse_gid(raw)
    if parsed is None or parsed[0] != "CartLine":
        return None
    return parsed[1] if any(line.id == parsed[1] for line in cart.lines) else None
