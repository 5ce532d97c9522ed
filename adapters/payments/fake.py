"""In-memory payment ledger for tests, keeping the fake orders' money columns as the SQL one does."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from adapters.orders.fake import FakeOrders
from adapters.orders.port import (
    Fulfillment,
    Order,
    OrderState,
    PaymentStatus,
)
from adapters.payments import rules
from adapters.payments.port import (
    AmountMismatch,
    IdempotencyConflict,
    InvalidState,
    Kind,
    Method,
    Payment,
    Settled,
    State,
    UnknownPayment,
)


def _money(order: Order) -> rules.Money:
    d = order.draft
    return rules.Money(plan=d.plan, balance_method=d.balance_method, total=d.cost.total, due_now=d.cost.due_now,
                       paid=order.paid, refunded=order.refunded, compensation=order.compensation)


class FakeLedger:
    def __init__(self, orders: FakeOrders) -> None:
        self._orders = orders
        self.payments: dict[int, Payment] = {}
        self._ids = itertools.count(1)

    async def open(self, shop_id: int, order_number: str, key: str, method: Method, cap: int, now: datetime) -> Payment:
        existing = next((p for p in self.payments.values() if p.shop_id == shop_id and p.idempotency_key == key), None)
        if existing is not None:
            if existing.order_number != order_number:
                raise IdempotencyConflict("this idempotency key was used to pay another order")
            return existing
        order = self._order(shop_id, order_number)
        if order is None or order.state is not OrderState.OPEN:
            raise InvalidState("only an open order can be paid")
        kind, owed = rules.next_due(_money(order))
        self._cancel_pending(shop_id, order_number)
        return self._add(shop_id, order_number, kind, method, min(owed, cap), State.PENDING, None, now, key)

    async def set_provider_ref(self, payment_id: int, provider_ref: str) -> None:
        self.payments[payment_id] = replace(self.payments[payment_id], provider_ref=provider_ref)

    async def settle(self, payment_id: int, succeeded: bool, amount: int, reference: str | None, now: datetime) -> Settled:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise UnknownPayment(f"no payment {payment_id}")
        if amount != payment.amount:
            raise AmountMismatch(f"the payment is for {payment.amount}, not {amount}")
        if payment.state in (State.SUCCEEDED, State.FAILED) or payment.kind is Kind.REFUND:
            return Settled(payment, changed=False)
        if not succeeded:
            if payment.state is State.CANCELLED:
                return Settled(payment, changed=False)
            self.payments[payment_id] = payment = replace(payment, state=State.FAILED, reference=reference)
            return Settled(payment, changed=True)
        order = self._order(payment.shop_id, payment.order_number)
        assert order is not None
        self.payments[payment_id] = payment = replace(payment, state=State.SUCCEEDED, reference=reference)
        after, excess, first_money = rules.incoming(_money(order), order.state is OrderState.OPEN, amount)
        if excess:
            self._add(payment.shop_id, payment.order_number, Kind.REFUND, payment.method, excess, State.SUCCEEDED,
                      "refund: nothing was due", now)
        self._save(order, after, now)
        return Settled(payment, changed=True, first_money=first_money)

    async def collect_balance(self, shop_id: int, order_number: str, amount: int, reference: str, now: datetime) -> Payment:
        order = self._order(shop_id, order_number)
        if order is None or order.state is not OrderState.OPEN:
            raise InvalidState("only an open order's balance can be collected")
        money = _money(order)
        due = rules.balance_due_at_door(money, order.payment_status)
        if amount != due:
            raise AmountMismatch(f"the balance due is {due}, not {amount}")
        payment = self._add(shop_id, order_number, Kind.BALANCE, Method.POS_ON_DELIVERY, amount, State.SUCCEEDED,
                            reference, now)
        self._save(order, replace(money, paid=money.paid + amount), now)
        return payment

    async def forfeit(self, shop_id: int, order_number: str, now: datetime) -> bool:
        order = self._order(shop_id, order_number)
        if order is None or order.state is not OrderState.OPEN or not rules.forfeitable(_money(order),
                                                                                         order.payment_status):
            return False
        self._cancel_pending(shop_id, order_number)
        self._orders.orders[order_number] = replace(order, state=OrderState.CANCELLED, cancelled_at=now, released=False,
                                                    payment_status=PaymentStatus.DEPOSIT_FORFEITED)
        return True

    async def merchant_cancel(self, shop_id: int, order_number: str, reason: str, now: datetime) -> bool:
        order = self._order(shop_id, order_number)
        if order is None or order.state is not OrderState.OPEN or order.fulfillment is Fulfillment.DELIVERED:
            return False
        self._cancel_pending(shop_id, order_number)
        money = _money(order)
        refund, compensation = rules.merchant_default(money)
        came_in = [p.method for p in self.payments.values() if p.order_number == order_number
                   and p.state is State.SUCCEEDED and p.kind is not Kind.REFUND and p.method is not Method.POS_ON_DELIVERY]
        method = came_in[0] if came_in else Method.POS_ON_DELIVERY
        if refund:
            self._add(shop_id, order_number, Kind.REFUND, method, refund, State.SUCCEEDED, f"refund: {reason}", now)
        if compensation:
            self._add(shop_id, order_number, Kind.REFUND, method, compensation, State.SUCCEEDED,
                      "deposit compensation (定金双倍返还)", now)
        order = replace(order, state=OrderState.CANCELLED, cancelled_at=now, released=False)
        self._save(order, replace(money, refunded=money.refunded + refund + compensation, compensation=compensation),
                   now)
        return True

    async def payments_of(self, shop_id: int, order_numbers: Sequence[str]) -> list[list[Payment]]:
        return [[p for p in self.payments.values() if p.shop_id == shop_id and p.order_number == n]
                for n in order_numbers]

    async def payment(self, payment_id: int) -> Payment | None:
        return self.payments.get(payment_id)

    async def balance_overdue(self, now: datetime, limit: int = 100) -> list[tuple[int, str]]:
        return [(o.shop_id, o.number) for o in self._orders.orders.values()
                if o.state is OrderState.OPEN and o.balance_due_at is not None and o.balance_due_at <= now
                and o.payment_status is not PaymentStatus.PAID][:limit]

    async def uncommitted(self, limit: int = 100, after: int = 0) -> list[tuple[int, int, str]]:
        return sorted((o.id, o.shop_id, o.number) for o in self._orders.orders.values()
                      if o.state is OrderState.OPEN and o.paid > 0 and not o.committed and o.id > after)[:limit]

    async def mark_committed(self, shop_id: int, order_number: str) -> None:
        order = self._orders.orders[order_number]
        self._orders.orders[order_number] = replace(order, committed=True)

    async def pending(self, method: Method, before: datetime, limit: int = 100) -> list[Payment]:
        return [p for p in self.payments.values()
                if p.method is method and p.state is State.PENDING and p.created_at < before][:limit]

    def _order(self, shop_id: int, number: str) -> Order | None:
        order = self._orders.orders.get(number)
        return order if order is not None and order.shop_id == shop_id else None

    def _add(self, shop_id: int, number: str, kind: Kind, method: Method, amount: int, state: State,
             reference: str | None, now: datetime, key: str | None = None) -> Payment:
        payment = Payment(id=next(self._ids), shop_id=shop_id, order_number=number, kind=kind, method=method,
                          amount=amount, state=state, created_at=now, idempotency_key=key, reference=reference)
        self.payments[payment.id] = payment
        return payment

    def _cancel_pending(self, shop_id: int, number: str) -> None:
        for p in list(self.payments.values()):
            if p.shop_id == shop_id and p.order_number == number and p.state is State.PENDING:
                self.payments[p.id] = replace(p, state=State.CANCELLED)

    def _save(self, order: Order, money: rules.Money, now: datetime) -> None:
        forfeited = order.payment_status is PaymentStatus.DEPOSIT_FORFEITED
        status = rules.status(money, order.state, forfeited)
        changes: dict[str, object] = dict(paid=money.paid, refunded=money.refunded, compensation=money.compensation,
                                          payment_status=status)
        changes |= rules.follow_ups(status, money, order.balance_due_at, order.draft.balance_due_hours,
                                    order.state is OrderState.OPEN, order.fulfillment is Fulfillment.DELIVERED, now)
        self._orders.orders[order.number] = replace(order, **changes)  # type: ignore[arg-type]
        rules.check(money, [p for p in self.payments.values()
                            if p.shop_id == order.shop_id and p.order_number == order.number])
