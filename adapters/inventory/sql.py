"""SQL implementation of inventory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Index,
    UniqueConstraint,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from adapters.db import Database, UtcDateTime, utcnow
from adapters.inventory import low_stock, rules
from adapters.inventory.port import (
    HeldLine,
    OutOfStock,
    PurchaseLimitExceeded,
    Reservation,
    ReservationState,
    StockLevel,
    UnknownWarehouse,
    WantedLine,
    Warehouse,
)


class WarehouseRow(SQLModel, table=True):
    """A warehouse and the region rules it serves ("1", "19_1601", "*")."""

    __tablename__ = "warehouse"
    __table_args__ = (UniqueConstraint("shop_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    code: str = Field(max_length=64)
    regions: list[str] = Field(default_factory=list, sa_type=JSON)


class StockRow(SQLModel, table=True):
    __tablename__ = "stock"
    __table_args__ = (
        UniqueConstraint("sku_id", "warehouse_id"),
        # The last line of defence: the database itself refuses an oversold row.
        CheckConstraint("reserved >= 0 AND sold >= 0 AND on_hand - reserved - sold >= 0", name="stock_counts"),
    )
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id", index=True)
    sku_id: int  # goods' id: capabilities refer to each other by id only
    warehouse_id: int = Field(foreign_key="warehouse.id")
    on_hand: int = 0
    reserved: int = 0
    sold: int = 0


class ReservationRow(SQLModel, table=True):
    __tablename__ = "reservation"
    __table_args__ = (
        UniqueConstraint("shop_id", "ref"),
        Index("ix_reservation_due", "state", "expires_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    ref: str = Field(max_length=200)
    shopper_id: int | None = None
    state: str = Field(max_length=16)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ReservationLineRow(SQLModel, table=True):
    __tablename__ = "reservation_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="reservation_line_quantity"),)
    id: int | None = Field(default=None, primary_key=True)
    reservation_id: int = Field(foreign_key="reservation.id", index=True)
    sku_id: int
    warehouse_id: int = Field(foreign_key="warehouse.id")
    quantity: int
    # Counted against the shopper's purchase limit, so released with it.
    tallied: bool = False


class PurchaseTallyRow(SQLModel, table=True):
    """Units of a SKU one shopper holds across orders that are not cancelled."""

    __tablename__ = "purchase_tally"
    __table_args__ = (
        UniqueConstraint("shopper_id", "sku_id"),
        CheckConstraint("quantity >= 0", name="purchase_tally_quantity"),
    )
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    shopper_id: int
    sku_id: int
    quantity: int = 0


_W = WarehouseRow.__table__
_S = StockRow.__table__
_R = ReservationRow.__table__
_L = ReservationLineRow.__table__
_T = PurchaseTallyRow.__table__
_AVAILABLE = _S.c.on_hand - _S.c.reserved - _S.c.sold


async def put_available(
    session: AsyncSession, db: Database, shop_id: int, sku_id: int, warehouse_id: int, quantity: int
) -> bool:
    """Make ``quantity`` sellable in one statement, keeping what is reserved and sold; True if it changed."""
    insert = db.insert(_S).values(
        shop_id=shop_id, sku_id=sku_id, warehouse_id=warehouse_id, on_hand=quantity, reserved=0, sold=0
    )
    upsert = insert.on_conflict_do_update(
        index_elements=["sku_id", "warehouse_id"],
        set_={"on_hand": insert.excluded.on_hand + _S.c.reserved + _S.c.sold},
        where=_AVAILABLE != insert.excluded.on_hand,
    )
    return (await session.execute(upsert)).rowcount == 1


async def create_stock(
    session: AsyncSession, db: Database, shop_id: int, sku_id: int, warehouse_id: int, on_hand: int
) -> bool:
    """A stock row holding ``on_hand``, unless the row exists already; True if created."""
    insert = db.insert(_S).values(
        shop_id=shop_id, sku_id=sku_id, warehouse_id=warehouse_id, on_hand=on_hand, reserved=0, sold=0
    )
    stmt = insert.on_conflict_do_nothing(index_elements=["sku_id", "warehouse_id"])
    return (await session.execute(stmt)).rowcount == 1


async def set_on_hand(session: AsyncSession, sku_id: int, warehouse_id: int, on_hand: int) -> bool:
    """On hand := ``on_hand`` in one statement, unless that is below what is reserved and sold; True if set."""
    stmt = (
        update(_S)
        .where(_S.c.sku_id == sku_id, _S.c.warehouse_id == warehouse_id, _S.c.reserved + _S.c.sold <= on_hand)
        .values(on_hand=on_hand)
    )
    return (await session.execute(stmt)).rowcount == 1


async def receive_stock(session: AsyncSession, sku_id: int, warehouse_id: int, units: int) -> bool:
    """Goods received: on hand grows by ``units``, counted in SQL; True if the row is there."""
    stmt = (
        update(_S)
        .where(_S.c.sku_id == sku_id, _S.c.warehouse_id == warehouse_id)
        .values(on_hand=_S.c.on_hand + units)
    )
    return (await session.execute(stmt)).rowcount == 1


async def _locked_units(session: AsyncSession, shop_id: int, sku_ids: Sequence[int]) -> dict[int, int]:
    """Available units of each SKU in all warehouses, its rows locked till the transaction ends."""
    rows = (await session.execute(
        select(_S.c.sku_id, _AVAILABLE.label("units"))
        .where(_S.c.shop_id == shop_id, _S.c.sku_id.in_(list(sku_ids)))
        .order_by(_S.c.sku_id, _S.c.warehouse_id)
        .with_for_update()
    )).all()
    found: dict[int, int] = defaultdict(int)
    for row in rows:
        found[row.sku_id] += row.units
    return found


class SqlInventory:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Every listing asks this: built once, the SKU ids bound as one list per call.
        self._available_by_sku = (
            select(_S.c.sku_id, _W.c.regions, _AVAILABLE.label("units"))
            .join(_W, _W.c.id == _S.c.warehouse_id)
            .where(_S.c.shop_id == bindparam("shop_id"), db.in_list(_S.c.sku_id, "sku_ids"))
        )
        self._units_by_sku = db.compiled(
            select(_S.c.sku_id, func.sum(_AVAILABLE))
            .join(_W, _W.c.id == _S.c.warehouse_id)
            .where(_S.c.shop_id == bindparam("shop_id"), db.in_list(_S.c.sku_id, "sku_ids"),
                   db.in_list(_W.c.code, "codes", text=True))
            .group_by(_S.c.sku_id)
        )

    async def available(self, shop_id: int, keys: Sequence[tuple[int, str | None]]) -> list[int]:
        sku_ids = sorted({sku_id for sku_id, _ in keys})
        by_sku: dict[int, list[tuple[list[str], int]]] = defaultdict(list)
        params = {"shop_id": shop_id, "sku_ids": self._db.list_param(sku_ids)}
        for row in await self._db.rows(self._available_by_sku, params):
            by_sku[row.sku_id].append((row.regions, row.units))
        return [
            sum(units for regions, units in by_sku[sku_id] if rules.serves(regions, region))
            for sku_id, region in keys
        ]

    async def warehouses(self, shop_id: int) -> list[Warehouse]:
        rows = await self._db.rows(select(_W.c.code, _W.c.regions).where(_W.c.shop_id == shop_id).order_by(_W.c.code))
        return [Warehouse(r.code, tuple(r.regions)) for r in rows]

    async def units(self, shop_id: int, sku_ids: Sequence[int], warehouse_codes: Sequence[str]) -> dict[int, int]:
        found = dict.fromkeys(sku_ids, 0)
        if not warehouse_codes or not sku_ids:
            return found
        params = {"shop_id": shop_id, "sku_ids": self._db.list_param(sorted(found)),
                  "codes": self._db.list_param(sorted(set(warehouse_codes)), text=True)}
        for sku_id, units in await self._db.driver_rows(self._units_by_sku, params):
            found[sku_id] = int(units)
        return found

    async def skus_in_stock(self, shop_id: int, region: str) -> set[int]:
        stmt = (
            select(_S.c.sku_id, _W.c.regions)
            .join(_W, _W.c.id == _S.c.warehouse_id)
            .where(_S.c.shop_id == shop_id, _AVAILABLE > 0)
        )
        return {row.sku_id for row in await self._db.rows(stmt) if rules.serves(row.regions, region)}

    async def levels(self, shop_id: int, sku_id: int) -> list[StockLevel]:
        stmt = (
            select(_S, _W.c.code)
            .join(_W, _W.c.id == _S.c.warehouse_id)
            .where(_S.c.shop_id == shop_id, _S.c.sku_id == sku_id)
            .order_by(_W.c.code)
        )
        return [StockLevel(r.sku_id, r.code, r.on_hand, r.reserved, r.sold) for r in await self._db.rows(stmt)]

    async def set_available(self, shop_id: int, sku_id: int, warehouse_code: str, quantity: int) -> None:
        if quantity < 0:
            raise ValueError("stock cannot be negative")
        async with self._db.write() as session:
            warehouse_id = (
                await session.execute(select(_W.c.id).where(_W.c.shop_id == shop_id, _W.c.code == warehouse_code))
            ).scalar_one_or_none()
            if warehouse_id is None:
                raise UnknownWarehouse(warehouse_code)
            before = await _locked_units(session, shop_id, [sku_id])
            if await put_available(session, self._db, shop_id, sku_id, warehouse_id, quantity):
                after = await _locked_units(session, shop_id, [sku_id])
                await low_stock.tell_low(session, shop_id, {sku_id: (before.get(sku_id, 0), after.get(sku_id, 0))}, "STOCK_SET")

    async def set_low_stock(self, shop_id: int, sku_id: int | None, threshold: int | None) -> None:
        async with self._db.write() as session:
            await low_stock.set_threshold(session, shop_id, sku_id, threshold)

    async def low_stock_thresholds(self, shop_id: int) -> dict[int | None, int]:
        return await low_stock.thresholds_of(self._db, shop_id)

    async def reserve(
        self,
        shop_id: int,
        ref: str,
        shopper_id: int | None,
        region: str,
        lines: Sequence[WantedLine],
        expires_at: datetime,
    ) -> Reservation:
        wanted = rules.merge_lines(lines)
        try:
            async with self._db.write() as session:
                existing = await self._by_ref(session, shop_id, ref)
                if existing is not None:
                    return existing
                held = await self._hold_stock(session, shop_id, region, wanted)
                tallied = await self._tally(session, shop_id, shopper_id, wanted)
                reservation_id = (
                    await session.execute(
                        _R.insert()
                        .values(
                            shop_id=shop_id,
                            ref=ref,
                            shopper_id=shopper_id,
                            state=ReservationState.ACTIVE.value,
                            expires_at=expires_at,
                            created_at=utcnow(),
                        )
                        .returning(_R.c.id)
                    )
                ).scalar_one()
                await session.execute(
                    _L.insert(),
                    [
                        {"reservation_id": reservation_id, "sku_id": sku, "warehouse_id": wh, "quantity": q,
                         "tallied": sku in tallied}
                        for sku, wh, q in held
                    ],
                )
                found = await self._load(session, shop_id, reservation_id)
        except IntegrityError:
            # Another request with the same ref won the race: answer with its reservation.
            async with self._db.read() as session:
                found = await self._by_ref(session, shop_id, ref)
            if found is None:
                raise
        assert found is not None
        return found

    async def _hold_stock(
        self, session: AsyncSession, shop_id: int, region: str, wanted: dict[int, WantedLine]
    ) -> list[tuple[int, int, int]]:
        warehouses = [
            (row.id, row.code)
            for row in (await session.execute(select(_W).where(_W.c.shop_id == shop_id).order_by(_W.c.id))).all()
            if rules.serves(row.regions, region)
        ]
        # Lock every row of these SKUs, in (sku, warehouse) order (no deadlocks): those of warehouses
        # not serving the region too, so that what is left of each SKU in all is known exactly.
        locked = (
            await session.execute(
                select(_S.c.sku_id, _S.c.warehouse_id, _AVAILABLE.label("units"))
                .where(_S.c.shop_id == shop_id, _S.c.sku_id.in_(list(wanted)))
                .order_by(_S.c.sku_id, _S.c.warehouse_id)
                .with_for_update()
            )
        ).all()
        units = {(row.sku_id, row.warehouse_id): row.units for row in locked}
        plan, short = [], []
        for sku_id, line in wanted.items():
            taken = rules.allocate(line.quantity, [(str(w), units.get((sku_id, w), 0)) for w, _ in warehouses])
            if taken is None:
                short.append(sku_id)
            else:
                plan += [(sku_id, int(w), q) for w, q in taken]
        if short:
            raise OutOfStock(short)
        for sku_id, warehouse_id, quantity in plan:
            result = await session.execute(
                update(_S)
                .where(_S.c.sku_id == sku_id, _S.c.warehouse_id == warehouse_id, _AVAILABLE >= quantity)
                .values(reserved=_S.c.reserved + quantity)
            )
            if result.rowcount != 1:  # cannot happen under the lock; refuse rather than oversell
                raise OutOfStock([sku_id])
        before = defaultdict(int)
        for row in locked:
            before[row.sku_id] += row.units
        await low_stock.tell_low(session, shop_id, {s: (before[s], before[s] - line.quantity) for s, line in wanted.items()},
                        "RESERVED")
        return plan

    async def _tally(
        self, session: AsyncSession, shop_id: int, shopper_id: int | None, wanted: dict[int, WantedLine]
    ) -> set[int]:
        limited = {s: line for s, line in wanted.items() if line.purchase_limit is not None}
        if shopper_id is None or not limited:
            return set()
        over = []
        for sku_id, line in limited.items():
            await session.execute(
                self._db.insert(_T)
                .values(shop_id=shop_id, shopper_id=shopper_id, sku_id=sku_id, quantity=0)
                .on_conflict_do_nothing(index_elements=["shopper_id", "sku_id"])
            )
            result = await session.execute(
                update(_T)
                .where(
                    _T.c.shopper_id == shopper_id,
                    _T.c.sku_id == sku_id,
                    _T.c.quantity + line.quantity <= line.purchase_limit,
                )
                .values(quantity=_T.c.quantity + line.quantity)
            )
            if result.rowcount != 1:
                over.append(sku_id)
        if over:
            raise PurchaseLimitExceeded(over)
        return set(limited)

    async def commit(self, shop_id: int, reservation_id: int) -> bool:
        async with self._db.write() as session:
            moved = await self._move(session, shop_id, reservation_id, ReservationState.ACTIVE, ReservationState.COMMITTED)
            if not moved:
                return False
            for line in await self._lines(session, reservation_id):
                await session.execute(
                    update(_S)
                    .where(_S.c.sku_id == line.sku_id, _S.c.warehouse_id == line.warehouse_id)
                    .values(reserved=_S.c.reserved - line.quantity, sold=_S.c.sold + line.quantity)
                )
            return True

    async def release_ref(self, shop_id: int, ref: str) -> bool:
        # jimu's own reserve runs in the checkout's own call: none arrives after its order gave up
        found = await self.reservation_by_ref(shop_id, ref)
        return found is not None and await self.release(shop_id, found.id)

    async def release(self, shop_id: int, reservation_id: int) -> bool:
        async with self._db.write() as session:
            state = (
                await session.execute(
                    select(_R.c.state).where(_R.c.id == reservation_id, _R.c.shop_id == shop_id).with_for_update()
                )
            ).scalar_one_or_none()
            if state not in (ReservationState.ACTIVE.value, ReservationState.COMMITTED.value):
                return False
            before = ReservationState(state)
            if not await self._move(session, shop_id, reservation_id, before, ReservationState.RELEASED):
                return False
            await self._give_back(session, reservation_id, before)
            return True

    async def expire_due(self, now: datetime, limit: int = 100) -> list[Reservation]:
        expired = []
        async with self._db.write() as session:
            due = (
                await session.execute(
                    select(_R.c.id, _R.c.shop_id)
                    .where(_R.c.state == ReservationState.ACTIVE.value, _R.c.expires_at <= now)
                    .order_by(_R.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in due:
                if await self._move(session, row.shop_id, row.id, ReservationState.ACTIVE, ReservationState.EXPIRED):
                    await self._give_back(session, row.id, ReservationState.ACTIVE)
                    found = await self._load(session, row.shop_id, row.id)
                    assert found is not None
                    expired.append(found)
        return expired

    async def reservation(self, shop_id: int, reservation_id: int) -> Reservation | None:
        async with self._db.read() as session:
            return await self._load(session, shop_id, reservation_id)

    async def reservation_by_ref(self, shop_id: int, ref: str) -> Reservation | None:
        async with self._db.read() as session:
            return await self._by_ref(session, shop_id, ref)

    async def _move(
        self,
        session: AsyncSession,
        shop_id: int,
        reservation_id: int,
        before: ReservationState,
        after: ReservationState,
    ) -> bool:
        result = await session.execute(
            update(_R)
            .where(_R.c.id == reservation_id, _R.c.shop_id == shop_id, _R.c.state == before.value)
            .values(state=after.value)
        )
        return result.rowcount == 1

    async def _give_back(self, session: AsyncSession, reservation_id: int, before: ReservationState) -> None:
        shopper_id = (await session.execute(select(_R.c.shopper_id).where(_R.c.id == reservation_id))).scalar_one()
        for line in await self._lines(session, reservation_id):
            counter = _S.c.reserved if before is ReservationState.ACTIVE else _S.c.sold
            await session.execute(
                update(_S)
                .where(_S.c.sku_id == line.sku_id, _S.c.warehouse_id == line.warehouse_id)
                .values({counter.name: counter - line.quantity})
            )
            if line.tallied and shopper_id is not None:
                await session.execute(
                    update(_T)
                    .where(_T.c.shopper_id == shopper_id, _T.c.sku_id == line.sku_id)
                    .values(quantity=_T.c.quantity - line.quantity)
                )

    async def _lines(self, session: AsyncSession, reservation_id: int) -> list[Any]:
        # In (sku, warehouse) order, the order every transaction locks stock rows in.
        stmt = select(_L).where(_L.c.reservation_id == reservation_id).order_by(_L.c.sku_id, _L.c.warehouse_id)
        return list((await session.execute(stmt)).all())

    async def _by_ref(self, session: AsyncSession, shop_id: int, ref: str) -> Reservation | None:
        found = (await session.execute(select(_R.c.id).where(_R.c.shop_id == shop_id, _R.c.ref == ref))).scalar()
        return None if found is None else await self._load(session, shop_id, found)

    async def _load(self, session: AsyncSession, shop_id: int, reservation_id: int) -> Reservation | None:
        row = (
            await session.execute(select(_R).where(_R.c.id == reservation_id, _R.c.shop_id == shop_id))
        ).first()
        if row is None:
            return None
        lines = (
            await session.execute(
                select(_L.c.sku_id, _W.c.code, _L.c.quantity)
                .join(_W, _W.c.id == _L.c.warehouse_id)
                .where(_L.c.reservation_id == reservation_id)
                .order_by(_L.c.sku_id, _W.c.code)
            )
        ).all()
        return Reservation(
            id=row.id,
            shop_id=row.shop_id,
            ref=row.ref,
            shopper_id=row.shopper_id,
            state=ReservationState(row.state),
            expires_at=row.expires_at,
            lines=tuple(HeldLine(sku_id, code, quantity) for sku_id, code, quantity in lines),
        )
