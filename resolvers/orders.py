"""Checkout, and a shopper's own orders."""

from __future__ import annotations

import strawberry

from adapters.db import utcnow
from adapters.orders import rules
from adapters.orders.checkout import CheckoutRefused
from adapters.orders.port import CartClosed, IdempotencyConflict
from adapters.orders.port import Order as OrderRecord
from resolvers.carts import load_cart
from resolvers.shopper_auth import signed_in
from resolvers.user_errors import user_error
from schema.common import UserError
from schema.orders import CheckoutCompletePayload, Order, OrderPayload


@strawberry.type
class OrderQuery:
    @strawberry.field(description="The shopper's own order.")
    async def order(self, info: strawberry.Info, number: str) -> Order | None:
        found = await own_order(info, number)
        return Order.of(found) if found else None


@strawberry.type
class OrderMutation:
    @strawberry.mutation
    async def checkout_complete(
        self, info: strawberry.Info, cart_id: strawberry.ID, idempotency_key: str
    ) -> CheckoutCompletePayload:
        shop, _ = await signed_in(info)
        scene, channel = info.context.attribution
        if not rules.IDEMPOTENCY_KEY.fullmatch(idempotency_key):
            return _refused("INVALID", ["idempotencyKey"], "use 1 to 128 printable ASCII characters, no spaces")
        cart = await load_cart(info, str(cart_id))
        if cart is None:
            return _refused("NOT_FOUND", ["cartId"], "no such cart")
        try:
            order = await info.context.checkout.complete(
                cart, idempotency_key, shop.online_payment_cap, scene, channel, utcnow()
            )
        except CheckoutRefused as exc:
            return CheckoutCompletePayload(user_errors=[user_error(p.code, ["cartId"], p.message) for p in exc.problems])
        except IdempotencyConflict as exc:
            return _refused("IDEMPOTENCY_CONFLICT", ["idempotencyKey"], str(exc))
        except CartClosed as exc:
            return _refused("INVALID_STATE", ["cartId"], str(exc))
        return CheckoutCompletePayload(order=Order.of(order))

    @strawberry.mutation
    async def order_cancel(self, info: strawberry.Info, order_number: str) -> OrderPayload:
        found = await own_order(info, order_number)
        if found is None:
            return OrderPayload(user_errors=[user_error("NOT_FOUND", ["orderNumber"], "no such order")])
        if not await info.context.cashier.cancel_by_shopper(found, utcnow()):
            return OrderPayload(user_errors=[user_error(
                "INVALID_STATE", ["orderNumber"],
                "only an open order not paid in full can be cancelled (a paid deposit is forfeited)")])
        [cancelled] = await info.context.adapters.orders.orders_by_number(found.shop_id, [order_number])
        return OrderPayload(order=Order.of(cancelled))


async def own_order(info: strawberry.Info, number: str) -> OrderRecord | None:
    """The signed-in shopper's order; None when there is none, and None for another shopper's
    (as for carts: the answer never says that a number someone else holds exists)."""
    shop, shopper_id = await signed_in(info)
    [found] = await info.context.adapters.orders.orders_by_number(shop.id, [number[:64]])
    return found if found is not None and found.shopper_id == shopper_id else None


def _refused(code: str, field: list[str], message: str) -> CheckoutCompletePayload:
    errors: list[UserError] = [user_error(code, field, message)]
    return CheckoutCompletePayload(user_errors=errors)
