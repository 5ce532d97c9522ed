"""SQL implementation of the payment ledger.

Every change locks the order's row first, then writes the payments and the
order's money columns (paid, refunded, status) together, and checks the
ledger's invariants before committing. It writes the ``orders`` table of
adapters.orders.sql directly: an order and its payments change in one
transaction or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from adapters.db import Database, UtcDateTime
from adapters.orders.port import (
    BalanceMethod,
    Fulfillment,
    OrderState,
    PaymentPlan,
    PaymentStatus,
)
from adapters.orders.sql import OrderRow, order_of_row
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
from adapters.webhooks.payloads import global_id, moment, money, order_payload
from adapters.webhooks.port import Topic
from adapters.webhooks.sql import emit


class PaymentRow(SQLModel, table=True):
    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("shop_id", "idempotency_key"),
        Index("ix_payment_order", "shop_id", "order_number", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    order_number: str = Field(max_length=32)
    kind: str = Field(max_length=16)
    method: str = Field(max_length=16)
    amount: int = Field(sa_type=BigInteger)
    state: str = Field(max_length=16)
    idempotency_key: str | None = Field(default=None, max_length=128)
    reference: str | None = Field(default=None, max_length=200)
    provider_ref: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(sa_type=UtcDateTime)
    settled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


_PAY = PaymentRow.__table__
_ORD = OrderRow.__table__


def _payment(row: Any) -> Payment:
    return Payment(id=row.id, shop_id=row.shop_id, order_number=row.order_number, kind=Kind(row.kind),
                   method=Method(row.method), amount=row.amount, state=State(row.state), created_at=row.created_at,
                   idempotency_key=row.idempotency_key, reference=row.reference, provider_ref=row.provider_ref)


def _money(order: Any) -> rules.Money:
    return rules.Money(
        plan=PaymentPlan(order.plan), balance_method=BalanceMethod(order.balance_method) if order.balance_method else None,
        total=order.total, due_now=order.due_now, paid=order.paid, refunded=order.refunded,
        compensation=order.compensation,
    )


class SqlLedger:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def open(self, shop_id: int, order_number: str, key: str, method: Method, cap: int, now: datetime) -> Payment:
        try:
            async with self._db.write() as session:
                order = await self._lock(session, shop_id, order_number)
                existing = (
                    await session.execute(select(_PAY).where(_PAY.c.shop_id == shop_id, _PAY.c.idempotency_key == key))
                ).first()
                if existing is not None:
                    return _same_order(_payment(existing), order_number)
                if order is None or order.state != OrderState.OPEN.value:
                    raise InvalidState("only an open order can be paid")
                kind, owed = rules.next_due(_money(order))
                await session.execute(
                    update(_PAY)
                    .where(_PAY.c.shop_id == shop_id, _PAY.c.order_number == order_number,
                           _PAY.c.state == State.PENDING.value)
                    .values(state=State.CANCELLED.value, settled_at=now)
                )
                new_id = (
                    await session.execute(
                        _PAY.insert()
                        .values(shop_id=shop_id, order_number=order_number, kind=kind.value, method=method.value,
                                amount=min(owed, cap), state=State.PENDING.value, idempotency_key=key, created_at=now)
                        .returning(_PAY.c.id)
                    )
                ).scalar_one()
                return _payment((await session.execute(select(_PAY).where(_PAY.c.id == new_id))).one())
        except IntegrityError:
            # The same key won the race in another request: it is that payment.
            found = await self._db.rows(select(_PAY).where(_PAY.c.shop_id == shop_id, _PAY.c.idempotency_key == key))
            if not found:
                raise
            return _same_order(_payment(found[0]), order_number)

    async def set_provider_ref(self, payment_id: int, provider_ref: str) -> None:
        async with self._db.write() as session:
            await session.execute(update(_PAY).where(_PAY.c.id == payment_id).values(provider_ref=provider_ref))

    async def settle(self, payment_id: int, succeeded: bool, amount: int, reference: str | None, now: datetime) -> Settled:
        async with self._db.write() as session:
            found = (await session.execute(select(_PAY.c.shop_id, _PAY.c.order_number).where(_PAY.c.id == payment_id))).first()
            if found is None:
                raise UnknownPayment(f"no payment {payment_id}")
            order = await self._lock(session, found.shop_id, found.order_number)
            payment = _payment((await session.execute(select(_PAY).where(_PAY.c.id == payment_id))).one())
            if amount != payment.amount:
                raise AmountMismatch(f"the payment is for {payment.amount}, not {amount}")
            if payment.state in (State.SUCCEEDED, State.FAILED) or payment.kind is Kind.REFUND:
                return Settled(payment, changed=False)  # a replay, or word on what is settled already
            if not succeeded:
                if payment.state is State.CANCELLED:
                    return Settled(payment, changed=False)
                await self._set(session, payment_id, State.FAILED, reference, now)
                return Settled(replace(payment, state=State.FAILED), changed=True)
            assert order is not None, "a payment always has its order"
            await self._set(session, payment_id, State.SUCCEEDED, reference, now)
            after, excess, first_money = rules.incoming(_money(order), order.state == OrderState.OPEN.value, amount)
            if excess:
                await self._insert(session, payment.shop_id, payment.order_number, Kind.REFUND, payment.method, excess,
                                   "refund: nothing was due", now)
            await self._save(session, order, after, now)
            return Settled(replace(payment, state=State.SUCCEEDED), changed=True, first_money=first_money)

    async def collect_balance(self, shop_id: int, order_number: str, amount: int, reference: str, now: datetime) -> Payment:
        async with self._db.write() as session:
            order = await self._lock(session, shop_id, order_number)
            if order is None or order.state != OrderState.OPEN.value:
                raise InvalidState("only an open order's balance can be collected")
            money = _money(order)
            due = rules.balance_due_at_door(money, PaymentStatus(order.payment_status))
            if amount != due:
                raise AmountMismatch(f"the balance due is {due}, not {amount}")
            row = await self._insert(session, shop_id, order_number, Kind.BALANCE, Method.POS_ON_DELIVERY, amount,
                                     reference, now)
            await self._save(session, order, replace(money, paid=money.paid + amount), now)
            return _payment(row)

    async def forfeit(self, shop_id: int, order_number: str, now: datetime) -> bool:
        async with self._db.write() as session:
            order = await self._lock(session, shop_id, order_number)
            if (order is None or order.state != OrderState.OPEN.value
                    or not rules.forfeitable(_money(order), PaymentStatus(order.payment_status))):
                return False
            await self._cancel_pending(session, shop_id, order_number, now)
            await session.execute(
                update(_ORD).where(_ORD.c.id == order.id).values(
                    state=OrderState.CANCELLED.value, payment_status=PaymentStatus.DEPOSIT_FORFEITED.value,
                    cancelled_at=now, released=False)
            )
            await self._tell(session, order.id, (Topic.DEPOSIT_FORFEITED, Topic.ORDERS_CANCELLED), now)
            return True

    async def merchant_cancel(self, shop_id: int, order_number: str, reason: str, now: datetime) -> bool:
        async with self._db.write() as session:
            order = await self._lock(session, shop_id, order_number)
            if (order is None or order.state != OrderState.OPEN.value
                    or order.fulfillment == Fulfillment.DELIVERED.value):
                return False
            await self._cancel_pending(session, shop_id, order_number, now)
            money = _money(order)
            refund, compensation = rules.merchant_default(money)
            method = await self._refund_method(session, shop_id, order_number) if refund else Method.POS_ON_DELIVERY
            if refund:
                await self._insert(session, shop_id, order_number, Kind.REFUND, method, refund, f"refund: {reason}", now)
            if compensation:
                await self._insert(session, shop_id, order_number, Kind.REFUND, method, compensation,
                                   "deposit compensation (定金双倍返还)", now)
            after = replace(money, refunded=money.refunded + refund + compensation, compensation=compensation)
            await self._save(session, order, after, now, cancelled=True)
            return True

    async def payments_of(self, shop_id: int, order_numbers: Sequence[str]) -> list[list[Payment]]:
        stmt = (select(_PAY).where(_PAY.c.shop_id == shop_id, _PAY.c.order_number.in_(list(order_numbers)))
                .order_by(_PAY.c.id))
        found: dict[str, list[Payment]] = {}
        for row in await self._db.rows(stmt):
            found.setdefault(row.order_number, []).append(_payment(row))
        return [found.get(n, []) for n in order_numbers]

    async def payment(self, payment_id: int) -> Payment | None:
        rows = await self._db.rows(select(_PAY).where(_PAY.c.id == payment_id))
        return _payment(rows[0]) if rows else None

    async def balance_overdue(self, now: datetime, limit: int = 100) -> list[tuple[int, str]]:
        stmt = (
            select(_ORD.c.shop_id, _ORD.c.number)
            .where(_ORD.c.state == OrderState.OPEN.value, _ORD.c.balance_due_at <= now,
                   _ORD.c.payment_status != PaymentStatus.PAID.value)
            .order_by(_ORD.c.id)
            .limit(limit)
        )
        return [(r.shop_id, r.number) for r in await self._db.rows(stmt)]

    async def uncommitted(self, limit: int = 100, after: int = 0) -> list[tuple[int, int, str]]:
        stmt = (
            select(_ORD.c.id, _ORD.c.shop_id, _ORD.c.number)
            .where(_ORD.c.state == OrderState.OPEN.value, _ORD.c.paid > 0, _ORD.c.committed.is_(False),
                   _ORD.c.id > after)
            .order_by(_ORD.c.id)
            .limit(limit)
        )
        return [(r.id, r.shop_id, r.number) for r in await self._db.rows(stmt)]

    async def mark_committed(self, shop_id: int, order_number: str) -> None:
        async with self._db.write() as session:
            await session.execute(update(_ORD).where(_ORD.c.shop_id == shop_id, _ORD.c.number == order_number)
                                  .values(committed=True))

    async def pending(self, method: Method, before: datetime, limit: int = 100) -> list[Payment]:
        stmt = (select(_PAY).where(_PAY.c.method == method.value, _PAY.c.state == State.PENDING.value,
                                   _PAY.c.created_at < before).order_by(_PAY.c.id).limit(limit))
        return [_payment(row) for row in await self._db.rows(stmt)]

    # ---------------------------------------------------------------- helpers

    async def _lock(self, session: AsyncSession, shop_id: int, number: str) -> Any:
        stmt = select(_ORD).where(_ORD.c.shop_id == shop_id, _ORD.c.number == number).with_for_update()
        return (await session.execute(stmt)).first()

    async def _save(
        self, session: AsyncSession, order: Any, money: rules.Money, now: datetime, cancelled: bool = False
    ) -> None:
        """Write the order's money columns and derived status (cancelling it too), checking the ledger holds."""
        state = OrderState.CANCELLED if cancelled else OrderState(order.state)
        forfeited = order.payment_status == PaymentStatus.DEPOSIT_FORFEITED.value
        status = rules.status(money, state, forfeited)
        values: dict[str, Any] = dict(paid=money.paid, refunded=money.refunded, compensation=money.compensation,
                                      payment_status=status.value)
        if cancelled:
            values |= dict(state=state.value, cancelled_at=now, released=False)
        for name, value in rules.follow_ups(status, money, order.balance_due_at, order.balance_due_hours,
                                            state is OrderState.OPEN, order.fulfillment == Fulfillment.DELIVERED.value,
                                            now).items():
            values[name] = value.value if isinstance(value, OrderState) else value
        await session.execute(update(_ORD).where(_ORD.c.id == order.id).values(**values))
        payments = [_payment(r) for r in (await session.execute(
            select(_PAY).where(_PAY.c.shop_id == order.shop_id, _PAY.c.order_number == order.number))).all()]
        rules.check(money, payments)
        await self._tell(session, order.id, rules.topics_of(PaymentStatus(order.payment_status), status, cancelled), now)

    async def _tell(self, session: AsyncSession, order_id: int, topics: Sequence[Topic], now: datetime) -> None:
        """The order's events, each with the order as it now is, in the ledger's transaction."""
        if not topics:
            return
        order = order_of_row((await session.execute(select(_ORD).where(_ORD.c.id == order_id))).one())
        for topic in topics:
            await emit(session, order.shop_id, topic, order_payload(order), now)

    async def _insert(
        self, session: AsyncSession, shop_id: int, number: str, kind: Kind, method: Method, amount: int,
        reference: str | None, now: datetime,
    ) -> Any:
        new_id = (
            await session.execute(
                _PAY.insert()
                .values(shop_id=shop_id, order_number=number, kind=kind.value, method=method.value, amount=amount,
                        state=State.SUCCEEDED.value, reference=reference, created_at=now, settled_at=now)
                .returning(_PAY.c.id)
            )
        ).scalar_one()
        row = (await session.execute(select(_PAY).where(_PAY.c.id == new_id))).one()
        if kind is Kind.REFUND:
            await emit(session, shop_id, Topic.REFUNDS_CREATE, {"refund": {
                "id": global_id("Payment", row.id), "orderNumber": number, "amount": money(amount),
                "method": method.value, "reason": reference, "createdAt": moment(now)}}, now)
        return row

    async def _set(self, session: AsyncSession, payment_id: int, state: State, reference: str | None, now: datetime) -> None:
        await session.execute(update(_PAY).where(_PAY.c.id == payment_id)
                              .values(state=state.value, reference=reference, settled_at=now))

    async def _cancel_pending(self, session: AsyncSession, shop_id: int, number: str, now: datetime) -> None:
        await session.execute(
            update(_PAY).where(_PAY.c.shop_id == shop_id, _PAY.c.order_number == number,
                               _PAY.c.state == State.PENDING.value)
            .values(state=State.CANCELLED.value, settled_at=now)
        )

    async def _refund_method(self, session: AsyncSession, shop_id: int, number: str) -> Method:
        """Money goes back the way it came in: the order's online method."""
        stmt = (select(_PAY.c.method).where(_PAY.c.shop_id == shop_id, _PAY.c.order_number == number,
                                            _PAY.c.state == State.SUCCEEDED.value, _PAY.c.kind != Kind.REFUND.value,
                                            _PAY.c.method != Method.POS_ON_DELIVERY.value)
                .order_by(_PAY.c.id))
        found = (await session.execute(stmt)).scalars().first()
        return Method(found) if found else Method.POS_ON_DELIVERY


def _same_order(payment: Payment, order_number: str) -> Payment:
    if payment.order_number != order_number:
        raise IdempotencyConflict("this idempotency key was used to pay another order")
    return payment
