"""SQL implementation of carts and orders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    UniqueConstraint,
    case,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from adapters.db import Database, UtcDateTime, utcnow
from adapters.orders import rules
from adapters.orders.port import (
    SHOWN_STATES,
    BalanceMethod,
    Begun,
    Cart,
    CartChanged,
    CartClosed,
    CartLine,
    Cost,
    Fulfillment,
    IdempotencyConflict,
    Order,
    OrderDraft,
    OrderLine,
    OrderPage,
    OrderState,
    PaymentPlan,
    PaymentStatus,
    SalesGroup,
    SalesRow,
)
from adapters.paging import Window
from adapters.webhooks.payloads import order_payload
from adapters.webhooks.port import Topic
from adapters.webhooks.sql import emit

VISIBLE = tuple(state.value for state in SHOWN_STATES)


class CartRow(SQLModel, table=True):
    __tablename__ = "cart"
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    shopper_id: int = Field(foreign_key="shopper.id", index=True)
    token: str = Field(max_length=32, unique=True)
    version: int = 1
    region: str | None = Field(default=None, max_length=32)
    tier: str | None = Field(default=None, max_length=16)
    slot_id: int | None = None
    coupon_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    plan: str = Field(default=PaymentPlan.FULL.value, max_length=16)
    balance_method: str | None = Field(default=None, max_length=16)
    order_number: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class CartLineRow(SQLModel, table=True):
    __tablename__ = "cart_line"
    __table_args__ = (UniqueConstraint("cart_id", "sku_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cart_id: int = Field(foreign_key="cart.id", ondelete="CASCADE")
    sku_id: int
    quantity: int


class OrderRow(SQLModel, table=True):
    __tablename__ = "orders"  # "order" is an SQL keyword
    __table_args__ = (
        UniqueConstraint("shop_id", "shopper_id", "idempotency_key"),
        Index("ix_orders_sweep", "state", "payment_status", "expires_at"),
        Index("ix_orders_shopper", "shop_id", "shopper_id", "id"),
        Index("ix_orders_shop_state", "shop_id", "state", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    shopper_id: int = Field(foreign_key="shopper.id")
    number: str = Field(max_length=32, unique=True)
    cart_id: int = Field(foreign_key="cart.id")
    idempotency_key: str | None = Field(default=None, max_length=128)  # freed when the checkout fails
    state: str = Field(max_length=16)
    payment_status: str = Field(max_length=24)
    fulfillment: str = Field(default=Fulfillment.UNFULFILLED.value, max_length=16)
    released: bool = True
    plan: str = Field(max_length=16)
    balance_method: str | None = Field(default=None, max_length=16)
    lines: list[dict[str, int | str]] = Field(default_factory=list, sa_type=JSON)
    coupon_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    subtotal: int = Field(sa_type=BigInteger)
    discount: int = Field(sa_type=BigInteger)
    delivery_fee: int = Field(sa_type=BigInteger)
    deposit_credit: int = Field(sa_type=BigInteger)
    total: int = Field(sa_type=BigInteger)
    due_now: int = Field(sa_type=BigInteger)
    region: str = Field(max_length=32)
    tier: str = Field(max_length=16)
    slot_id: int | None = None
    scene: int | None = None
    channel: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    balance_due_hours: int | None = None
    # Kept by the payment ledger (adapters.payments.sql), in its transactions.
    paid: int = Field(default=0, sa_type=BigInteger)
    refunded: int = Field(default=0, sa_type=BigInteger)
    compensation: int = Field(default=0, sa_type=BigInteger)
    committed: bool = False
    balance_due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


_CART = CartRow.__table__
_LINE = CartLineRow.__table__
_ORD = OrderRow.__table__


def order_of_row(row: Any) -> Order:
    """The order an ``orders`` row holds (the payment ledger reads the rows it writes)."""
    draft = OrderDraft(
        shop_id=row.shop_id, shopper_id=row.shopper_id, cart_id=row.cart_id, idempotency_key=row.idempotency_key or "",
        number=row.number, lines=tuple(OrderLine(**line) for line in row.lines),
        cost=Cost(subtotal=row.subtotal, discount=row.discount, delivery_fee=row.delivery_fee,
                  deposit_credit=row.deposit_credit, total=row.total, due_now=row.due_now),
        plan=PaymentPlan(row.plan), balance_method=BalanceMethod(row.balance_method) if row.balance_method else None,
        coupon_ids=tuple(row.coupon_ids), region=row.region, tier=row.tier, slot_id=row.slot_id,
        scene=row.scene, channel=row.channel, created_at=row.created_at, expires_at=row.expires_at,
        balance_due_hours=row.balance_due_hours,
    )
    return Order(id=row.id, draft=draft, state=OrderState(row.state), payment_status=PaymentStatus(row.payment_status),
                 fulfillment=Fulfillment(row.fulfillment), released=row.released, cancelled_at=row.cancelled_at,
                 paid=row.paid, refunded=row.refunded, compensation=row.compensation, committed=row.committed,
                 balance_due_at=row.balance_due_at)


def _draft_values(draft: OrderDraft) -> dict[str, Any]:
    cost = draft.cost
    return dict(
        shop_id=draft.shop_id, shopper_id=draft.shopper_id, number=draft.number, cart_id=draft.cart_id,
        idempotency_key=draft.idempotency_key, state=OrderState.PENDING.value,
        payment_status=PaymentStatus.UNPAID.value, fulfillment=Fulfillment.UNFULFILLED.value, released=False,
        plan=draft.plan.value, balance_method=draft.balance_method.value if draft.balance_method else None,
        lines=[asdict(ln) for ln in draft.lines],
        coupon_ids=list(draft.coupon_ids), subtotal=cost.subtotal, discount=cost.discount,
        delivery_fee=cost.delivery_fee, deposit_credit=cost.deposit_credit, total=cost.total, due_now=cost.due_now,
        region=draft.region, tier=draft.tier, slot_id=draft.slot_id, scene=draft.scene, channel=draft.channel,
        created_at=draft.created_at, expires_at=draft.expires_at, balance_due_hours=draft.balance_due_hours,
        paid=0, refunded=0, compensation=0, committed=False,
    )


class SqlOrders:
    def __init__(self, db: Database) -> None:
        self._db = db

    # ---------------------------------------------------------------- carts

    async def create_cart(self, shop_id: int, shopper_id: int) -> Cart:
        now = utcnow()
        token = rules.new_cart_token()
        async with self._db.write() as session:
            cart_id = (
                await session.execute(
                    _CART.insert()
                    .values(shop_id=shop_id, shopper_id=shopper_id, token=token, version=1, coupon_ids=[],
                            plan=PaymentPlan.FULL.value, created_at=now, updated_at=now)
                    .returning(_CART.c.id)
                )
            ).scalar_one()
        return Cart(id=cart_id, shop_id=shop_id, shopper_id=shopper_id, version=1, token=token)

    async def carts_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Cart | None]:
        found = await self._carts(_CART.c.shop_id == shop_id, _CART.c.id.in_(list(ids)))
        by_id = {cart.id: cart for cart in found}
        return [by_id.get(i) for i in ids]

    async def carts_by_token(self, shop_id: int, tokens: Sequence[str]) -> list[Cart | None]:
        found = await self._carts(_CART.c.shop_id == shop_id, _CART.c.token.in_(list(tokens)))
        by_token = {cart.token: cart for cart in found}
        return [by_token.get(t) for t in tokens]

    async def _carts(self, *where: Any) -> list[Cart]:
        async with self._db.read() as session:
            rows = (await session.execute(select(_CART).where(*where))).all()
            lines: dict[int, list[CartLine]] = {}
            stmt = select(_LINE).where(_LINE.c.cart_id.in_([r.id for r in rows])).order_by(_LINE.c.id)
            for line in (await session.execute(stmt)).all():
                lines.setdefault(line.cart_id, []).append(CartLine(line.id, line.sku_id, line.quantity))
        return [_cart(row, lines.get(row.id, [])) for row in rows]

    async def save_cart(self, cart: Cart) -> Cart:
        async with self._db.write() as session:
            row = (
                await session.execute(
                    select(_CART.c.version, _CART.c.order_number)
                    .where(_CART.c.id == cart.id, _CART.c.shop_id == cart.shop_id)
                    .with_for_update()
                )
            ).first()
            if row is None or row.version != cart.version:
                raise CartChanged("the cart changed since it was read")
            if row.order_number is not None:
                raise CartClosed(row.order_number)
            await session.execute(
                update(_CART)
                .where(_CART.c.id == cart.id)
                .values(version=cart.version + 1, region=cart.region, tier=cart.tier, slot_id=cart.slot_id,
                        coupon_ids=list(cart.coupon_ids), plan=cart.plan.value,
                        balance_method=cart.balance_method.value if cart.balance_method else None,
                        updated_at=utcnow())
            )
            kept = {line.id: line for line in cart.lines if line.id is not None}
            await session.execute(delete(_LINE).where(_LINE.c.cart_id == cart.id, _LINE.c.id.not_in(list(kept))))
            for line in kept.values():
                await session.execute(update(_LINE).where(_LINE.c.id == line.id).values(quantity=line.quantity))
            new = [{"cart_id": cart.id, "sku_id": ln.sku_id, "quantity": ln.quantity} for ln in cart.lines if ln.id is None]
            if new:
                await session.execute(_LINE.insert(), new)
        [saved] = await self.carts_by_id(cart.shop_id, [cart.id])
        assert saved is not None
        return saved

    # ---------------------------------------------------------------- checkout

    async def begin(self, draft: OrderDraft) -> Begun:
        try:
            async with self._db.write() as session:
                existing = await self._by_key(session, draft.shop_id, draft.shopper_id, draft.idempotency_key)
                if existing is not None:
                    return _same_cart(existing, draft)
                claimed = await session.execute(
                    update(_CART)
                    .where(_CART.c.id == draft.cart_id, _CART.c.shop_id == draft.shop_id,
                           _CART.c.order_number.is_(None))
                    .values(order_number=draft.number, version=_CART.c.version + 1)
                )
                if claimed.rowcount != 1:
                    # Taken meanwhile: by this key (a retry racing us), or by another checkout.
                    existing = await self._by_key(session, draft.shop_id, draft.shopper_id, draft.idempotency_key)
                    if existing is not None:
                        return _same_cart(existing, draft)
                    number = (await session.execute(select(_CART.c.order_number).where(_CART.c.id == draft.cart_id))).scalar()
                    raise CartClosed(number or "")
                await session.execute(_ORD.insert().values(**_draft_values(draft)))
                created = await self._by_key(session, draft.shop_id, draft.shopper_id, draft.idempotency_key)
                assert created is not None
                return Begun(created, created=True)
        except IntegrityError:
            async with self._db.read() as session:
                existing = await self._by_key(session, draft.shop_id, draft.shopper_id, draft.idempotency_key)
            if existing is None:
                raise
            return _same_cart(existing, draft)

    async def confirm(self, shop_id: int, number: str, payment_status: PaymentStatus) -> bool:
        return await self._move(shop_id, number, OrderState.PENDING, Topic.ORDERS_CREATE, state=OrderState.OPEN.value,
                                payment_status=payment_status.value)

    async def fail(self, shop_id: int, number: str) -> bool:
        async with self._db.write() as session:
            return await self._fail(session, shop_id, number)

    async def _fail(self, session: AsyncSession, shop_id: int, number: str) -> bool:
        moved = await session.execute(
            update(_ORD)
            .where(_ORD.c.shop_id == shop_id, _ORD.c.number == number, _ORD.c.state == OrderState.PENDING.value)
            .values(state=OrderState.FAILED.value, idempotency_key=None, released=False)
        )
        if moved.rowcount != 1:
            return False
        # The cart is free for another checkout.
        await session.execute(
            update(_CART).where(_CART.c.order_number == number).values(order_number=None, version=_CART.c.version + 1)
        )
        return True

    async def cancel(self, shop_id: int, number: str, now: datetime) -> bool:
        return await self._move(shop_id, number, OrderState.OPEN, Topic.ORDERS_CANCELLED, only_unpaid=True,
                                state=OrderState.CANCELLED.value, cancelled_at=now, released=False)

    async def mark_released(self, shop_id: int, number: str) -> None:
        async with self._db.write() as session:
            await session.execute(
                update(_ORD).where(_ORD.c.shop_id == shop_id, _ORD.c.number == number).values(released=True)
            )

    async def expire_due(self, now: datetime, limit: int = 100) -> list[Order]:
        async with self._db.write() as session:
            due = (
                await session.execute(
                    select(_ORD.c.id)
                    .where(_ORD.c.state == OrderState.OPEN.value, _ORD.c.paid == 0,
                           _ORD.c.payment_status == PaymentStatus.UNPAID.value, _ORD.c.expires_at <= now)
                    .order_by(_ORD.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).scalars().all()
            expired = []
            for order_id in due:
                moved = await session.execute(
                    update(_ORD)
                    .where(_ORD.c.id == order_id, _ORD.c.state == OrderState.OPEN.value, _ORD.c.paid == 0,
                           _ORD.c.payment_status == PaymentStatus.UNPAID.value)
                    .values(state=OrderState.CANCELLED.value, cancelled_at=now, released=False)
                )
                if moved.rowcount == 1:
                    expired.append(order_id)
            found = await self._by_ids(session, expired)
            for order in found:
                await emit(session, order.shop_id, Topic.ORDERS_CANCELLED, order_payload(order), now)
            return found

    async def fail_stale(self, before: datetime, limit: int = 100) -> list[Order]:
        async with self._db.write() as session:
            stale = (
                await session.execute(
                    select(_ORD.c.shop_id, _ORD.c.number)
                    .where(_ORD.c.state == OrderState.PENDING.value, _ORD.c.created_at < before)
                    .order_by(_ORD.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            failed = [row.number for row in stale if await self._fail(session, row.shop_id, row.number)]
            rows = (await session.execute(select(_ORD).where(_ORD.c.number.in_(failed)).order_by(_ORD.c.id))).all()
            return [order_of_row(row) for row in rows]

    async def unreleased(self, limit: int = 100, after: int = 0) -> list[Order]:
        stmt = (
            select(_ORD)
            .where(_ORD.c.state.in_([OrderState.CANCELLED.value, OrderState.FAILED.value]), _ORD.c.released.is_(False),
                   _ORD.c.id > after)
            .order_by(_ORD.c.id)
            .limit(limit)
        )
        return [order_of_row(row) for row in await self._db.rows(stmt)]

    async def set_fulfillment(self, shop_id: int, number: str, fulfillment: Fulfillment) -> Order | None:
        async with self._db.write() as session:
            where = (_ORD.c.shop_id == shop_id, _ORD.c.number == number, _ORD.c.state.in_(VISIBLE))
            was = (await session.execute(select(_ORD.c.fulfillment).where(*where).with_for_update())).scalar()
            await session.execute(update(_ORD).where(*where).values(fulfillment=fulfillment.value))
            if fulfillment is Fulfillment.DELIVERED:
                await session.execute(
                    update(_ORD)
                    .where(*where, _ORD.c.state == OrderState.OPEN.value,
                           _ORD.c.payment_status == PaymentStatus.PAID.value)
                    .values(state=OrderState.COMPLETED.value)
                )
            row = (await session.execute(select(_ORD).where(*where))).first()
            if row is None:
                return None
            order = order_of_row(row)
            for topic in rules.fulfillment_topics(Fulfillment(was or Fulfillment.UNFULFILLED.value), fulfillment):
                await emit(session, shop_id, topic, order_payload(order), utcnow())
            return order

    # ---------------------------------------------------------------- reading

    async def orders_by_number(self, shop_id: int, numbers: Sequence[str]) -> list[Order | None]:
        stmt = select(_ORD).where(_ORD.c.shop_id == shop_id, _ORD.c.number.in_(list(numbers)), _ORD.c.state.in_(VISIBLE))
        found = {row.number: order_of_row(row) for row in await self._db.rows(stmt)}
        return [found.get(n) for n in numbers]

    async def orders_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Order | None]:
        stmt = select(_ORD).where(_ORD.c.shop_id == shop_id, _ORD.c.id.in_(list(ids)), _ORD.c.state.in_(VISIBLE))
        found = {row.id: order_of_row(row) for row in await self._db.rows(stmt)}
        return [found.get(i) for i in ids]

    async def order_by_key(self, shop_id: int, shopper_id: int, idempotency_key: str) -> Order | None:
        async with self._db.read() as session:
            return await self._by_key(session, shop_id, shopper_id, idempotency_key)

    async def orders_page(
        self, shop_id: int, shopper_id: int | None, state: OrderState | None, window: Window[int]
    ) -> OrderPage:
        where = [_ORD.c.shop_id == shop_id, _ORD.c.state.in_(VISIBLE)]
        if shopper_id is not None:
            where.append(_ORD.c.shopper_id == shopper_id)
        if state is not None:
            where.append(_ORD.c.state == state.value)
        total = (await self._db.rows(select(func.count()).select_from(_ORD).where(*where)))[0][0]
        if window.after is not None:
            where.append(_ORD.c.id < window.after)
        if window.before is not None:
            where.append(_ORD.c.id > window.before)
        newest_first = _ORD.c.id.asc() if window.from_end else _ORD.c.id.desc()  # ``last`` reads from the oldest
        rows, more = window.take(await self._db.rows(select(_ORD).where(*where).order_by(newest_first)
                                                     .limit(window.size + 1)))
        return OrderPage([order_of_row(row) for row in rows], *window.flags(more), total)

    async def sales(
        self, shop_id: int, group: SalesGroup, start: datetime | None, end: datetime | None
    ) -> list[SalesRow]:
        column = _ORD.c.scene if group is SalesGroup.SCENE else _ORD.c.channel
        where = [_ORD.c.shop_id == shop_id, _ORD.c.state.in_(VISIBLE)]
        if start is not None:
            where.append(_ORD.c.created_at >= start)
        if end is not None:
            where.append(_ORD.c.created_at < end)

        def orders_with(money: Any) -> Any:
            return func.sum(case((money > 0, 1), else_=0))

        figures = {
            "placed_orders": func.count(), "placed": func.sum(_ORD.c.total),
            "paid_orders": orders_with(_ORD.c.paid), "paid": func.sum(_ORD.c.paid),
            "refunded_orders": orders_with(_ORD.c.refunded), "refunded": func.sum(_ORD.c.refunded),
        }
        stmt = select(column.label("key"), *(f.label(name) for name, f in figures.items())).where(*where).group_by(column)
        rows = [
            SalesRow(key="" if row.key is None else str(row.key), **{name: int(row[name] or 0) for name in figures})
            for row in (r._mapping for r in await self._db.rows(stmt))
        ]
        return sorted(rows, key=rules.sales_order)

    # ---------------------------------------------------------------- helpers

    async def _move(
        self, shop_id: int, number: str, before: OrderState, told: Topic, *, only_unpaid: bool = False, **values: Any
    ) -> bool:
        """Move the order on from ``before`` and tell its subscribers ``told``, in one transaction."""
        where = [_ORD.c.shop_id == shop_id, _ORD.c.number == number, _ORD.c.state == before.value]
        if only_unpaid:
            where += [_ORD.c.paid == 0, _ORD.c.payment_status == PaymentStatus.UNPAID.value]
        async with self._db.write() as session:
            if (await session.execute(update(_ORD).where(*where).values(**values))).rowcount != 1:
                return False
            row = (await session.execute(select(_ORD).where(_ORD.c.shop_id == shop_id, _ORD.c.number == number))).one()
            await emit(session, shop_id, told, order_payload(order_of_row(row)), utcnow())
            return True

    async def _by_key(self, session: AsyncSession, shop_id: int, shopper_id: int, key: str) -> Order | None:
        row = (
            await session.execute(
                select(_ORD).where(_ORD.c.shop_id == shop_id, _ORD.c.shopper_id == shopper_id,
                                   _ORD.c.idempotency_key == key)
            )
        ).first()
        return order_of_row(row) if row else None

    async def _by_ids(self, session: AsyncSession, ids: list[int]) -> list[Order]:
        if not ids:
            return []
        rows = (await session.execute(select(_ORD).where(_ORD.c.id.in_(ids)).order_by(_ORD.c.id))).all()
        return [order_of_row(row) for row in rows]


def _cart(row: Any, lines: list[CartLine]) -> Cart:
    return Cart(
        id=row.id, shop_id=row.shop_id, shopper_id=row.shopper_id, version=row.version, token=row.token,
        lines=tuple(lines),
        region=row.region, tier=row.tier, slot_id=row.slot_id, coupon_ids=tuple(row.coupon_ids),
        plan=PaymentPlan(row.plan), balance_method=BalanceMethod(row.balance_method) if row.balance_method else None,
        order_number=row.order_number,
    )


def _same_cart(existing: Order, draft: OrderDraft) -> Begun:
    if existing.draft.cart_id != draft.cart_id:
        raise IdempotencyConflict("this idempotency key was used for another cart")
    return Begun(existing, created=False)
