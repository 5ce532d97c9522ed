"""In-memory carts and orders for tests: the SQL adapter's behaviour without a database."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from adapters.orders import rules
from adapters.orders.port import (
    SHOWN_STATES,
    Begun,
    Cart,
    CartChanged,
    CartClosed,
    CartLine,
    Fulfillment,
    IdempotencyConflict,
    Order,
    OrderDraft,
    OrderPage,
    OrderState,
    PaymentStatus,
    SalesGroup,
    SalesRow,
)
from adapters.paging import Window, in_memory

VISIBLE = SHOWN_STATES


class FakeOrders:
    def __init__(self) -> None:
        self.carts: dict[int, Cart] = {}
        self.orders: dict[str, Order] = {}  # by number
        self._cart_ids = itertools.count(1)
        self._line_ids = itertools.count(1)
        self._order_ids = itertools.count(1)

    async def create_cart(self, shop_id: int, shopper_id: int) -> Cart:
        cart = Cart(id=next(self._cart_ids), shop_id=shop_id, shopper_id=shopper_id, version=1,
                    token=rules.new_cart_token())
        self.carts[cart.id] = cart
        return cart

    async def carts_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Cart | None]:
        return [c if (c := self.carts.get(i)) is not None and c.shop_id == shop_id else None for i in ids]

    async def carts_by_token(self, shop_id: int, tokens: Sequence[str]) -> list[Cart | None]:
        by_token = {c.token: c for c in self.carts.values() if c.shop_id == shop_id}
        return [by_token.get(t) for t in tokens]

    async def save_cart(self, cart: Cart) -> Cart:
        stored = self.carts.get(cart.id)
        if stored is None or stored.shop_id != cart.shop_id or stored.version != cart.version:
            raise CartChanged("the cart changed since it was read")
        if stored.order_number is not None:
            raise CartClosed(stored.order_number)
        lines = tuple(line if line.id is not None else CartLine(next(self._line_ids), line.sku_id, line.quantity)
                      for line in cart.lines)
        saved = replace(cart, lines=lines, version=cart.version + 1, order_number=None)
        self.carts[cart.id] = saved
        return saved

    async def begin(self, draft: OrderDraft) -> Begun:
        existing = await self.order_by_key(draft.shop_id, draft.shopper_id, draft.idempotency_key)
        if existing is not None:
            if existing.draft.cart_id != draft.cart_id:
                raise IdempotencyConflict("this idempotency key was used for another cart")
            return Begun(existing)
        cart = self.carts[draft.cart_id]
        if cart.order_number is not None:
            raise CartClosed(cart.order_number)
        self.carts[cart.id] = replace(cart, order_number=draft.number, version=cart.version + 1)
        order = Order(id=next(self._order_ids), draft=draft, state=OrderState.PENDING,
                      payment_status=PaymentStatus.UNPAID, fulfillment=Fulfillment.UNFULFILLED, released=False)
        self.orders[draft.number] = order
        return Begun(order, created=True)

    async def confirm(self, shop_id: int, number: str, payment_status: PaymentStatus) -> bool:
        return self._move(shop_id, number, OrderState.PENDING, state=OrderState.OPEN, payment_status=payment_status)

    async def fail(self, shop_id: int, number: str) -> bool:
        order = self.orders.get(number)
        if order is None or order.shop_id != shop_id or order.state is not OrderState.PENDING:
            return False
        self.orders[number] = replace(order, state=OrderState.FAILED, released=False,
                                      draft=replace(order.draft, idempotency_key=""))
        cart = self.carts[order.draft.cart_id]
        if cart.order_number == number:
            self.carts[cart.id] = replace(cart, order_number=None, version=cart.version + 1)
        return True

    async def cancel(self, shop_id: int, number: str, now: datetime) -> bool:
        order = self.orders.get(number)
        if order is None or order.paid != 0 or order.payment_status is not PaymentStatus.UNPAID:
            return False
        return self._move(shop_id, number, OrderState.OPEN, state=OrderState.CANCELLED, cancelled_at=now, released=False)

    async def mark_released(self, shop_id: int, number: str) -> None:
        order = self.orders[number]
        self.orders[number] = replace(order, released=True)

    async def expire_due(self, now: datetime, limit: int = 100) -> list[Order]:
        due = [o for o in self.orders.values() if o.state is OrderState.OPEN
               and o.paid == 0 and o.payment_status is PaymentStatus.UNPAID and o.draft.expires_at <= now][:limit]
        for order in due:
            await self.cancel(order.shop_id, order.number, now)
        return [self.orders[o.number] for o in due]

    async def fail_stale(self, before: datetime, limit: int = 100) -> list[Order]:
        stale = [o for o in self.orders.values() if o.state is OrderState.PENDING and o.draft.created_at < before]
        for order in stale[:limit]:
            await self.fail(order.shop_id, order.number)
        return [self.orders[o.number] for o in stale[:limit]]

    async def unreleased(self, limit: int = 100, after: int = 0) -> list[Order]:
        return sorted((o for o in self.orders.values()
                       if o.state in (OrderState.CANCELLED, OrderState.FAILED) and not o.released and o.id > after),
                      key=lambda o: o.id)[:limit]

    async def set_fulfillment(self, shop_id: int, number: str, fulfillment: Fulfillment) -> Order | None:
        order = self.orders.get(number)
        if order is None or order.shop_id != shop_id or order.state not in VISIBLE:
            return None
        order = replace(order, fulfillment=fulfillment)
        if (fulfillment is Fulfillment.DELIVERED and order.state is OrderState.OPEN
                and order.payment_status is PaymentStatus.PAID):
            order = replace(order, state=OrderState.COMPLETED)
        self.orders[number] = order
        return order

    async def orders_by_number(self, shop_id: int, numbers: Sequence[str]) -> list[Order | None]:
        return [o if (o := self.orders.get(n)) is not None and o.shop_id == shop_id and o.state in VISIBLE else None
                for n in numbers]

    async def orders_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Order | None]:
        by_id = {o.id: o for o in self.orders.values() if o.shop_id == shop_id and o.state in VISIBLE}
        return [by_id.get(i) for i in ids]

    async def order_by_key(self, shop_id: int, shopper_id: int, idempotency_key: str) -> Order | None:
        return next((o for o in self.orders.values() if o.shop_id == shop_id and o.shopper_id == shopper_id
                     and o.draft.idempotency_key == idempotency_key and o.state is not OrderState.FAILED), None)

    async def orders_page(
        self, shop_id: int, shopper_id: int | None, state: OrderState | None, window: Window[int]
    ) -> OrderPage:
        matching = sorted(
            (o for o in self.orders.values() if o.shop_id == shop_id and o.state in VISIBLE
             and (shopper_id is None or o.shopper_id == shopper_id) and (state is None or o.state is state)),
            key=lambda o: -o.id,
        )
        return OrderPage(*in_memory(matching, lambda o: o.id, window, descending=True), len(matching))

    async def sales(
        self, shop_id: int, group: SalesGroup, start: datetime | None, end: datetime | None
    ) -> list[SalesRow]:
        rows: dict[str, SalesRow] = {}
        for order in self.orders.values():
            at = order.draft.created_at
            if (order.shop_id != shop_id or order.state not in VISIBLE
                    or (start is not None and at < start) or (end is not None and at >= end)):
                continue
            value = order.draft.scene if group is SalesGroup.SCENE else order.draft.channel
            key = "" if value is None else str(value)
            row = rows.get(key) or SalesRow(key=key, placed_orders=0, placed=0, paid_orders=0, paid=0,
                                            refunded_orders=0, refunded=0)
            rows[key] = replace(
                row,
                placed_orders=row.placed_orders + 1, placed=row.placed + order.draft.cost.total,
                paid_orders=row.paid_orders + (order.paid > 0), paid=row.paid + order.paid,
                refunded_orders=row.refunded_orders + (order.refunded > 0), refunded=row.refunded + order.refunded,
            )
        return sorted(rows.values(), key=rules.sales_order)

    def _move(self, shop_id: int, number: str, before: OrderState, **changes: object) -> bool:
        order = self.orders.get(number)
        if order is None or order.shop_id != shop_id or order.state is not before:
            return False
        self.orders[number] = replace(order, **changes)  # type: ignore[arg-type]
        return True
