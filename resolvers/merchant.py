"""Merchant (sk_...) views of orders, and moving their delivery along."""

from __future__ import annotations

import strawberry

from adapters.db import utcnow
from adapters.delivery.port import EventKind, InvalidTransition
from adapters.orders import rules
from adapters.orders.port import OrderState, PaymentStatus
from resolvers.user_errors import user_error
from schema.delivery import DeliveryEventKind
from schema.orders import MerchantView, Order, OrderPayload

MAX_NOTE = 500


@strawberry.type
class MerchantQuery:
    @strawberry.field(description="Merchant views; needs a secret key (sk_...).")
    async def merchant(self, info: strawberry.Info) -> MerchantView | None:
        shop = await info.context.merchant_shop()
        return MerchantView(shop_id=shop.id)


@strawberry.type
class MerchantMutation:
    @strawberry.mutation(description="Hand the order to delivery (a PICKED event); it must be paid.")
    async def order_ship(self, info: strawberry.Info, order_number: str) -> OrderPayload:
        return await _record(info, order_number, EventKind.PICKED, None, "orderNumber")

    @strawberry.mutation
    async def delivery_event_record(
        self, info: strawberry.Info, order_number: str, kind: DeliveryEventKind, note: str | None = None
    ) -> OrderPayload:
        if note is not None and len(note) > MAX_NOTE:
            return OrderPayload(user_errors=[user_error("INVALID", ["note"], f"at most {MAX_NOTE} characters")])
        return await _record(info, order_number, EventKind(kind.value), note, "kind")


async def _record(info: strawberry.Info, number: str, kind: EventKind, note: str | None, field: str) -> OrderPayload:
    shop = await info.context.merchant_shop()
    orders = info.context.adapters.orders
    [order] = await orders.orders_by_number(shop.id, [number[:64]])
    if order is None:
        return OrderPayload(user_errors=[user_error("NOT_FOUND", ["orderNumber"], "no such order")])
    if order.state is not OrderState.OPEN:
        return OrderPayload(user_errors=[user_error("INVALID_STATE", ["orderNumber"],
                                                    f"the order is {order.state.value.lower()}")])
    if not rules.may_go_out(order):
        return OrderPayload(user_errors=[user_error("INVALID_STATE", ["orderNumber"],
                                                    "the order is not paid: it cannot go out yet")])
    try:
        record = await info.context.adapters.delivery.record_event(
            shop.id, number, kind, note, order.payment_status is PaymentStatus.PAID, utcnow()
        )
    except InvalidTransition as exc:
        return OrderPayload(user_errors=[user_error("INVALID_STATE", [field], str(exc))])
    # The delivery record is the truth; the order keeps its summary in step with it.
    updated = await orders.set_fulfillment(shop.id, number, rules.fulfillment_of(e.kind for e in record.events))
    assert updated is not None
    return OrderPayload(order=Order.of(updated))
